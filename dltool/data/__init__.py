"""Datasets held whole in memory as tensors; importing this package registers them."""

from dltool.data import airfoil, fashion_mnist, synthetic, toy2d  # noqa: F401
from dltool.data.dataset import Dataset, build_dataset  # noqa: F401
