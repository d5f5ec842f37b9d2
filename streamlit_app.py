"""keras-cnn course: `streamlit run streamlit_app.py`."""

import streamlit as st

st.set_page_config(page_title="keras-cnn course", layout="wide")
st.title("keras-cnn: the classic CNNs, from LeNet-5 to ResNet")
st.write("The course is being built. Meanwhile, try `python -m keras_cnn summary resnet50`.")
