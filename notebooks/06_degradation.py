# %% [markdown]
# # The degradation problem
#
# Lesson 6. Deeper plain networks train worse than shallower ones. The plain and residual twins
# have exactly the same parameters; only the shortcuts differ.

# %%
import os

import keras_cnn

SMALL = os.environ.get("KERAS_CNN_NOTEBOOK_SMALL") == "1"

# %%
for name in ("plain20", "resnet20", "plain56", "resnet56"):
    t = keras_cnn.inspect_structure(lambda n=name: keras_cnn.get_model(n), keras_cnn.totals)
    print(f"{name}: {t['params']:,} parameters, {t['weight_layers']} weight layers")

# %% [markdown]
# ## Train the twins
# The course's stored long run is `results/degradation_long.csv` (made by
# `results/degradation_long.py`); here a short run of the shallow pair.

# %%
depths, epochs = ((8,), 1) if SMALL else ((20,), 5)
curves = keras_cnn.degradation(depths, epochs=epochs, limit=256 if SMALL else None)
curves.pivot(index="epoch", columns="model", values="train_error")

# %%
import pathlib

import pandas as pd

stored = pathlib.Path("../results/degradation_digits.csv")
if stored.exists():
    print(pd.read_csv(stored).groupby("model").last()[["train_error", "test_error"]])
