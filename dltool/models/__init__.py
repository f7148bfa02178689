"""Models by name and impl; importing this package registers them."""

from dltool.models import linear, mlp  # noqa: F401
from dltool.models.build import build_model, build_loss  # noqa: F401
