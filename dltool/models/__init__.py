"""Models by name and impl; importing this package registers them."""

from dltool.models import densenet, lenet, linear, mlp, nqm, point, resnet  # noqa: F401
from dltool.models.build import build_loss, build_model  # noqa: F401
