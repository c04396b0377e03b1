"""Home: what a GAN is, and where each page fits in the course."""

import streamlit as st

st.title("GAN Classroom")
st.markdown(
    "See how a **Generative Adversarial Network** learns. A generator **G** turns random noise *z* into "
    "samples; a discriminator **D** tries to tell them apart from real data. They play the minimax game "
    "of Goodfellow et al. (2014):")
st.latex(r"\min_G \max_D V(D, G) = \mathbb{E}_{x \sim p_{data}}[\log D(x)] + "
         r"\mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))]")
st.markdown("Each page shows one part of the story:")

c1, c2, c3 = st.columns(3)
with c1:
    st.page_link("views/distributions.py", label="How a GAN matches distributions", icon=":material/show_chart:")
    st.caption("The theory in 1-D: p_data, p_g, the optimal discriminator D* = p_data / (p_data + p_g), "
               "V(D*, G) = -log 4 + 2·JSD, and a real 1-D GAN trained step by step (Figure 1 of the paper).")
with c2:
    st.page_link("views/train.py", label="Train a DCGAN live", icon=":material/model_training:")
    st.caption("A DCGAN learns real handwritten digits (or your own images) in front of the class: losses, "
               "D(x) and D(G(z)), and the sample grid, live. Save, download and resume checkpoints.")
with c3:
    st.page_link("views/latent.py", label="Explore the latent space", icon=":material/explore:")
    st.caption("A pretrained generator: move z, find semantic directions (SeFa), interpolate with lerp and "
               "slerp, do vector arithmetic, and check for memorisation.")

st.info("Colours used everywhere, as in Figure 1 of Goodfellow et al. 2014: **p_data black (dotted)**, "
        "**p_g green (solid)**, **D blue (dashed)**.")
