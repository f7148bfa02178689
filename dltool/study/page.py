"""A study's report.html, written when it ends (`dltool report STUDY` writes it again)."""

from __future__ import annotations

import sys
from pathlib import Path

from dltool.store.study import StudyFolder


def write_study_page(study: StudyFolder) -> Path | None:
    """The study on one self-contained page; a failure is a warning, never the study's."""
    from dltool.plots.report_page import write_report  # base64 and the page's HTML: only at the end

    try:
        return write_report(study)
    except Exception as exc:
        print(f"warning: the {study.noun}'s report.html was not written ({type(exc).__name__}: {exc})", file=sys.stderr)
        return None
