# %% [markdown]
# # LeNet-5 and convolution arithmetic
#
# Lesson 1 of the keras-cnn course. We build LeNet-5 (LeCun et al. 1998) with `keras_cnn`, read
# its layer table, work out output sizes and receptive fields by hand and check them against the
# code, then train it on the embedded digits.
#
# On Colab, install the package first: `pip install "keras-cnn @ git+<repository URL>"`.

# %%
import os

import keras_cnn

SMALL = os.environ.get("KERAS_CNN_NOTEBOOK_SMALL") == "1"  # the test suite runs a tiny setting
EPOCHS = 1 if SMALL else 5
LIMIT = 256 if SMALL else None

# %% [markdown]
# ## The network and its table
# Five weight layers, 61,706 parameters. `summarize` lists every layer's output, parameters,
# multiply-adds and receptive field.

# %%
model = keras_cnn.build_lenet5()
table = keras_cnn.summarize(model)
table

# %%
keras_cnn.totals(model)

# %%
keras_cnn.show(model)

# %% [markdown]
# ## Output size and receptive field by hand
# A window of size k with stride s and padding p turns n pixels into floor((n + 2p - k) / s) + 1.
# Each layer grows the receptive field by (k - 1) times the jump, the distance in input pixels
# between neighbouring units, and multiplies the jump by its stride.


# %%
def conv_output_size(n, k, s=1, p=0):
    return (n + 2 * p - k) // s + 1


size, field, jump = 32, 1, 1
for name, k, s in [("c1", 5, 1), ("s2", 2, 2), ("c3", 5, 1), ("s4", 2, 2), ("c5", 5, 1)]:
    size, field, jump = conv_output_size(size, k, s), field + (k - 1) * jump, jump * s
    print(
        f"{name}: {size}x{size}, receptive field {field}, code says {keras_cnn.receptive_field(model, name)}"
    )

# %% [markdown]
# ## Train it on the digits
# `keras_cnn.train.train` trains the model in place on the 8x8 scikit-learn digits resized to
# 32x32, and returns one row per epoch.

# %%
from keras_cnn.train import train

history = train(model, "digits", epochs=EPOCHS, limit=LIMIT, seed=0, verbose=0, record=False)
history[["epoch", "loss", "accuracy", "test_accuracy"]]

# %% [markdown]
# ## What the first layer learned
# The six 5x5 kernels of C1, and their feature maps for one test digit.

# %%
from PIL import Image

from keras_cnn import inside
from keras_cnn.training import data

x_test, y_test = data.arrays("digits", "test", input_shape=(32, 32, 1), limit=8)
Image.fromarray(inside.to_image(inside.first_layer_filters(model), size=128))

# %%
maps = inside.feature_maps(model, x_test[0], ["c1"])["c1"][0]
Image.fromarray(inside.to_image(inside.tile(maps.transpose(2, 0, 1)), size=256))
