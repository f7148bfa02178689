"""dltool: the classic Dive into Deep Learning experiments as a command-line runner."""

__version__ = "0.1.0"
