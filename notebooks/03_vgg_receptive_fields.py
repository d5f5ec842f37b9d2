# %% [markdown]
# # VGG and receptive fields
#
# Lesson 3. Stacks of 3x3 convolutions: two see 5x5, three 7x7, with fewer weights than one big
# filter. VGG-16 equals `keras.applications.VGG16` layer for layer.

# %%
import os

import keras

import keras_cnn

SMALL = os.environ.get("KERAS_CNN_NOTEBOOK_SMALL") == "1"

# %% [markdown]
# ## Stacked 3x3 convolutions

# %%
inputs = keras.Input((64, 64, 3))
x = inputs
for i in range(1, 4):
    x = keras.layers.Conv2D(8, 3, padding="same", name=f"conv{i}")(x)
stack = keras.Model(inputs, x)
[keras_cnn.receptive_field(stack, f"conv{i}") for i in range(1, 4)]

# %%
C = 256
print("three 3x3:", 3 * 9 * C * C, "weights; one 7x7:", 49 * C * C)

# %% [markdown]
# ## VGG-16

# %%
vgg = keras_cnn.build_vgg(16)
keras_cnn.totals(vgg)

# %%
table = keras_cnn.summarize(vgg)
table[table.layer.str.endswith("pool") | table.layer.str.startswith("fc")]

# %%
for layer in ("block1_conv2", "block3_conv3", "block5_conv3", "block5_pool"):
    print(
        layer,
        keras_cnn.receptive_field(vgg, layer),
        keras_cnn.inside.receptive_field_box(vgg, layer),
    )

# %% [markdown]
# ## The effective receptive field
# The gradient of one centre unit with respect to the input shows which pixels count: the centre
# far more than the edges of the 212-pixel field.

# %%
from PIL import Image

from keras_cnn import inside

small_vgg = keras_cnn.build_vgg(
    16, include_top=False, input_shape=(64, 64, 3) if SMALL else (128, 128, 3)
)
erf = inside.effective_receptive_field(small_vgg, "block4_conv3", samples=2 if SMALL else 8)
Image.fromarray(inside.to_image(erf, cmap="inferno", size=256))
