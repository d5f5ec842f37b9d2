"""``keras_cnn.train`` is ``keras_cnn.training.trainer``: the module's home since the package was grouped.

Importing this name gives that very module (not a copy), so ``keras_cnn.train.X``, patches of it
and ``isinstance`` checks behave exactly as before.
"""

import sys

from keras_cnn.training import trainer as _home

sys.modules[__name__] = _home
