"""``keras_cnn.inside`` is ``keras_cnn.analysis.inside``: the module's home since the package was grouped.

Importing this name gives that very module (not a copy), so ``keras_cnn.inside.X``, patches of it
and ``isinstance`` checks behave exactly as before.
"""

import sys

from keras_cnn.analysis import inside as _home

sys.modules[__name__] = _home
