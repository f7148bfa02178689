"""`python -m dltool.plots.worker`: one plotting process of plots.processes (see there for why and how)."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path


def serve() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the run's whole process group
    from dltool.plots.figure import import_matplotlib
    from dltool.plots.run import write_run_plots
    from dltool.store.run import Run

    import_matplotlib()
    for line in sys.stdin:
        request = json.loads(line)
        try:
            paths = write_run_plots(Run(Path(request["run"])), parts=[request["part"]])
            answer = {"paths": [str(path) for path in paths]}
        except Exception as exc:  # reported by the run, which carries on without these pictures
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    serve()
