"""The terminal's progress bar: its fields as rich shows them, set at most every BAR_INTERVAL_S of
training time, and always at the last step."""

from __future__ import annotations

import io

from dltool.train.progress import BAR_INTERVAL_S, RichProgress


def test_the_bar_keeps_up_within_its_interval_and_ends_on_the_last_step():
    bar = RichProgress(total_steps=1000, steps_per_epoch=100, label="run")
    bar.progress.console.file = io.StringIO()  # no terminal in a test: the bar draws into a buffer
    task, real_update, sets = bar.progress.tasks[0], bar.progress.update, []
    bar.progress.update = lambda *args, **kwargs: (sets.append(kwargs["completed"]), real_update(*args, **kwargs))
    step_s = 0.001  # 1 ms of training time a step: 50 steps a bar interval
    with bar:
        for step in range(1, 1001):
            bar.update(step, step // 100, loss=1.0 / step, examples=10 * step, now=step * step_s)
            assert step - task.completed < BAR_INTERVAL_S / step_s + 1  # never more than one interval behind
    assert task.completed == 1000 and sets[-1] == 1000
    assert len(sets) <= 1000 * step_s / BAR_INTERVAL_S + 2  # about 20 sets, not 1000: the hot path stays light
    assert task.fields["epoch"] == "10.00/10" and task.fields["eta"] == "0:00:00"
    assert task.fields["rate"] == "10,000" and task.fields["loss"] == f"{1 / 1000:.4g}"  # 10 examples per ms
