# %% [markdown]
# # Looking inside a trained network
#
# Feature maps, receptive-field boxes, effective receptive fields and Grad-CAM on a LeNet-5 we
# train here on the digits.

# %%
import os

from PIL import Image

import keras_cnn
from keras_cnn import inside
from keras_cnn.train import train
from keras_cnn.training import data

SMALL = os.environ.get("KERAS_CNN_NOTEBOOK_SMALL") == "1"
model = keras_cnn.build_lenet5()
train(
    model,
    "digits",
    epochs=1 if SMALL else 5,
    limit=256 if SMALL else None,
    seed=0,
    verbose=0,
    record=False,
)
x, y = data.arrays("digits", "test", input_shape=(32, 32, 1), limit=8)

# %% [markdown]
# ## Feature maps of each stage

# %%
maps = inside.feature_maps(model, x[0])
{name: m.shape for name, m in maps.items()}

# %%
first = next(iter(maps.values()))[0]
Image.fromarray(inside.to_image(inside.tile(first.transpose(2, 0, 1)), size=256))

# %% [markdown]
# ## What one unit can see, and what it looks at

# %%
box = inside.receptive_field_box(model, "c3")
erf = inside.effective_receptive_field(model, "c3", x[:4])
print("box", box, "size", keras_cnn.receptive_field(model, "c3"))
Image.fromarray(inside.draw_box(inside.to_image(erf, cmap="inferno"), box)).resize(
    (256, 256), Image.NEAREST
)

# %% [markdown]
# ## Grad-CAM: where the evidence for the predicted class lies

# %%
heat = inside.grad_cam(model, x[:1])
Image.fromarray(inside.overlay(x[0], heat[0])).resize((256, 256), Image.NEAREST)
