# %% [markdown]
# # Residual blocks and gradient flow
#
# Lessons 7 and 8. A basic block, its shortcut options, and the gradient of every block at
# initialization in a plain and a residual network.

# %%
import keras
import pandas as pd

import keras_cnn

# %% [markdown]
# ## A basic block with identity and projection shortcuts

# %%
inputs = keras.Input((32, 32, 16))
same = keras_cnn.basic_block(inputs, 16, name="identity")
down = keras_cnn.basic_block(inputs, 32, stride=2, shortcut="projection", name="projection")
block = keras.Model(inputs, [same, down])
keras_cnn.summarize(block)[["layer", "type", "output_shape", "params"]]

# %%
keras_cnn.show(keras.Model(inputs, down))

# %% [markdown]
# ## Gradients at initialization
# `gradient_norms` runs one forward and backward pass and reports the gradient norm of every
# block, nearest the input first.

# %%
from keras_cnn.training import data

x, y = data.arrays("digits", "train", input_shape=(32, 32, 1), limit=64)  # the digits are grey
norms = {}
for name in ("plain20", "resnet20"):
    keras.utils.set_random_seed(0)
    table = keras_cnn.gradient_norms(keras_cnn.train.build_model(name), (x, y))
    norms[name] = table.set_index("block").weight_grad_norm
frame = pd.DataFrame(norms)
frame

# %%
ratio = frame.iloc[1] / frame.iloc[-2]
print("first block / last block:", ratio.round(1).to_dict())
