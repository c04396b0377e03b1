"""The lecture's TensorFlow DCGAN, as text, and how each of its lines maps onto this app's PyTorch code.

``KERAS_SOURCE`` is the model and ``train_step`` of the TensorFlow tutorial "Deep Convolutional
Generative Adversarial Network" (https://www.tensorflow.org/tutorials/generative/dcgan, code under
the Apache License 2.0), which the lecture trains. It is shown, never run: TensorFlow is not a
dependency. The ``tf-tutorial`` preset (``gan_core.models``) is its PyTorch translation.

The mappings hold no copy of PyTorch code that could drift from the real one:

- ``GENERATOR_LAYERS`` / ``DISCRIMINATOR_LAYERS`` pair each Keras ``model.add(...)`` line with the
  indices of the modules in the preset's ``nn.Sequential`` (``G.net`` / ``D.net``); the page prints
  those modules from a freshly built model.
- ``TRAIN_STEP_LINES`` pairs a ``train_step`` line with a line that ``Algorithm1.d_step`` or
  ``Algorithm1.g_step`` (``gan_core.algorithm1``, the updates every trainer runs) contains;
  ``tests/test_page_train.py`` checks that each one still occurs in ``inspect.getsource`` of that method.
"""

from __future__ import annotations

KERAS_SOURCE = '''\
def make_generator_model():
    model = tf.keras.Sequential()
    model.add(layers.Dense(7*7*256, use_bias=False, input_shape=(100,)))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    model.add(layers.Reshape((7, 7, 256)))
    assert model.output_shape == (None, 7, 7, 256)  # Note: None is the batch size

    model.add(layers.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding='same', use_bias=False))
    assert model.output_shape == (None, 7, 7, 128)
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    model.add(layers.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding='same', use_bias=False))
    assert model.output_shape == (None, 14, 14, 64)
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    model.add(layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding='same', use_bias=False, activation='tanh'))
    assert model.output_shape == (None, 28, 28, 1)

    return model


def make_discriminator_model():
    model = tf.keras.Sequential()
    model.add(layers.Conv2D(64, (5, 5), strides=(2, 2), padding='same',
                                     input_shape=[28, 28, 1]))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))

    model.add(layers.Conv2D(128, (5, 5), strides=(2, 2), padding='same'))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))

    model.add(layers.Flatten())
    model.add(layers.Dense(1))

    return model


cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)


def discriminator_loss(real_output, fake_output):
    real_loss = cross_entropy(tf.ones_like(real_output), real_output)
    fake_loss = cross_entropy(tf.zeros_like(fake_output), fake_output)
    total_loss = real_loss + fake_loss
    return total_loss


def generator_loss(fake_output):
    return cross_entropy(tf.ones_like(fake_output), fake_output)


generator_optimizer = tf.keras.optimizers.Adam(1e-4)
discriminator_optimizer = tf.keras.optimizers.Adam(1e-4)

BUFFER_SIZE = 60000
BATCH_SIZE = 256
EPOCHS = 50
noise_dim = 100
num_examples_to_generate = 16

seed = tf.random.normal([num_examples_to_generate, noise_dim])


# Notice the use of `tf.function`
# This annotation causes the function to be "compiled".
@tf.function
def train_step(images):
    noise = tf.random.normal([BATCH_SIZE, noise_dim])

    with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
      generated_images = generator(noise, training=True)

      real_output = discriminator(images, training=True)
      fake_output = discriminator(generated_images, training=True)

      gen_loss = generator_loss(fake_output)
      disc_loss = discriminator_loss(real_output, fake_output)

    gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
    gradients_of_discriminator = disc_tape.gradient(disc_loss, discriminator.trainable_variables)

    generator_optimizer.apply_gradients(zip(gradients_of_generator, generator.trainable_variables))
    discriminator_optimizer.apply_gradients(zip(gradients_of_discriminator, discriminator.trainable_variables))
'''

# (Keras line, indices of the PyTorch modules in G.net) -- Keras' activation='tanh' is a separate nn.Tanh.
GENERATOR_LAYERS: list[tuple[str, tuple[int, ...]]] = [
    ("layers.Dense(7*7*256, use_bias=False, input_shape=(100,))", (0,)),
    ("layers.BatchNormalization()", (1,)),
    ("layers.LeakyReLU()", (2,)),
    ("layers.Reshape((7, 7, 256))", (3,)),
    ("layers.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding='same', use_bias=False)", (4,)),
    ("layers.BatchNormalization()", (5,)),
    ("layers.LeakyReLU()", (6,)),
    ("layers.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding='same', use_bias=False)", (7,)),
    ("layers.BatchNormalization()", (8,)),
    ("layers.LeakyReLU()", (9,)),
    ("layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding='same', use_bias=False, activation='tanh')",
     (10, 11)),
]

# (Keras line, indices of the PyTorch modules in D.net)
DISCRIMINATOR_LAYERS: list[tuple[str, tuple[int, ...]]] = [
    ("layers.Conv2D(64, (5, 5), strides=(2, 2), padding='same', input_shape=[28, 28, 1])", (0,)),
    ("layers.LeakyReLU()", (1,)),
    ("layers.Dropout(0.3)", (2,)),
    ("layers.Conv2D(128, (5, 5), strides=(2, 2), padding='same')", (3,)),
    ("layers.LeakyReLU()", (4,)),
    ("layers.Dropout(0.3)", (5,)),
    ("layers.Flatten()", (6,)),
    ("layers.Dense(1)", (7,)),
]

# (train_step line, the Algorithm1 method, a line that method contains). Keras' single train_step
# updates D and G from the same forward pass; Algorithm 1 (and this app) updates D first, then G.
TRAIN_STEP_LINES: list[tuple[str, str, str]] = [
    ("noise = tf.random.normal([BATCH_SIZE, noise_dim])", "d_step", "z = self.sample_z(len(x))"),
    ("generated_images = generator(noise, training=True)", "d_step", "self.kept_fake = self.G(z)"),
    ("real_output = discriminator(images, training=True)", "d_step",
     "real_scores, fake_scores = self.D(self.augment(x)), self.D(self.augment(fake))"),
    ("disc_loss = discriminator_loss(real_output, fake_output)", "d_step",
     "loss_d = self.loss.d_loss(real_scores, fake_scores, self.real_target)"),
    ("with tf.GradientTape() as ... disc_tape:", "d_step", "self.opt_d.zero_grad(set_to_none=True)"),
    ("gradients_of_discriminator = disc_tape.gradient(disc_loss, ...)", "d_step",
     "self.precision.backward(loss_d, self.opt_d)"),
    ("discriminator_optimizer.apply_gradients(...)", "d_step", "self.precision.step(self.opt_d)"),
    ("fake_output = discriminator(generated_images, training=True)", "g_step",
     "scores = self.D_fixed(self.augment(fake))"),
    ("gen_loss = generator_loss(fake_output)", "g_step", "loss_g = self.loss.g_loss(scores.float())"),
    ("with tf.GradientTape() as gen_tape, ...:", "g_step", "self.opt_g.zero_grad(set_to_none=True)"),
    ("gradients_of_generator = gen_tape.gradient(gen_loss, ...)", "g_step",
     "self.precision.backward(loss_g, self.opt_g)"),
    ("generator_optimizer.apply_gradients(...)", "g_step", "self.precision.step(self.opt_g)"),
]
