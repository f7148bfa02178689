"""Imported only by the comparison's worker server (the forkserver's preload list), never elsewhere.

The server holds this command's stdout and stderr. When the command ends, the server would tear
down its torch and torch._dynamo modules for about a second, and anything reading the command's
output (a pipe, `| tee`, a script) would wait for it. The server has nothing to save, so it ends at once.
"""

import atexit
import os

atexit.register(os._exit, 0)
