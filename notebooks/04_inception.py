# %% [markdown]
# # Inception (GoogLeNet)
#
# Lesson 4. Four branches in parallel, 1x1 convolutions that shrink the channels before the
# expensive ones, global average pooling instead of big fully connected layers.

# %%
import keras

import keras_cnn

# %% [markdown]
# ## One Inception module
# Module 3a with the paper's six branch widths: 64; 96 -> 128; 16 -> 32; pool -> 32.

# %%
inputs = keras.Input((28, 28, 192))
outputs = keras_cnn.inception_block(inputs, 64, 96, 128, 16, 32, 32, name="inception_3a")
module = keras.Model(inputs, outputs)
keras_cnn.summarize(module)[["layer", "output_shape", "params", "macs"]]

# %%
without = 28 * 28 * 5 * 5 * 192 * 32
with_reduction = 28 * 28 * 192 * 16 + 28 * 28 * 5 * 5 * 16 * 32
print(
    f"5x5 branch: {without:,} multiply-adds without the 1x1 reduction, {with_reduction:,} with it"
)

# %% [markdown]
# ## GoogLeNet against VGG-16

# %%
import pandas as pd

pd.DataFrame(
    {
        name: keras_cnn.inspect_structure(lambda n=name: keras_cnn.get_model(n), keras_cnn.totals)
        for name in ("googlenet", "vgg16")
    }
).T

# %%
keras_cnn.show(module)
