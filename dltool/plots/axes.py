"""What a run's curves can show: the metric on y and the quantity on x, with their axis labels, and the
file formats pictures are saved in.
Light on purpose (no matplotlib): the command line lists these choices before anything heavy is loaded."""

from enum import Enum


class Metric(str, Enum):
    loss = "loss"
    acc = "acc"
    lr = "lr"

    @property
    def label(self) -> str:
        return {"loss": "loss", "acc": "accuracy", "lr": "learning rate"}[self.value]


# Names --metric also takes: a run's accuracy picture is accuracy.png
METRIC_ALIASES = {"accuracy": "acc"}


def canonical_metric(name: str) -> str:
    return METRIC_ALIASES.get(name, name)


# What `dltool plot --metric` accepts: the metrics and their aliases
MetricChoice = Enum("MetricChoice", [(name, name) for name in (*(m.value for m in Metric), *METRIC_ALIASES)], type=str)


class XAxis(str, Enum):
    epoch = "epoch"
    step = "step"
    examples = "examples"
    time = "time"

    @property
    def label(self) -> str:
        return {
            "epoch": "epoch",
            "step": "step (parameter updates)",
            "examples": "examples seen",
            "time": "training time (s)",
        }[self.value]


class PlotFormat(str, Enum):
    """A picture's file format (the config's plots.formats takes the same names)."""

    png = "png"
    svg = "svg"
    pdf = "pdf"


# A run's pictures in parts of similar cost (0.3-0.4 s each), which processes can draw side by side
# (plots.processes); the last two are a classification run's (the confusion matrix, the prediction grid).
PARTS = ("curves", "confusion", "predictions")

# in the name of a picture `dltool plot` draws on request ('loss-vs-epoch-with-5aa8'): not one of the run's own,
# so a report page leaves it out
OVERLAY_MARK = "-vs-"
