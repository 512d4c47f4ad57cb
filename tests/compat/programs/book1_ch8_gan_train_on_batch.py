"""Introduction to GANs: a DCGAN on CIFAR-10 frogs, trained with train_on_batch and a
frozen discriminator (trainable = False)

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/first_edition/8.5-introduction-to-gans.ipynb
license: MIT
kind: declarative
changed: imports → cornu; CIFAR-10 from the fake Keras cache (random images; its 50,000 training images are what Keras 3.15's loader requires, of which about 5,000 are "frogs"); iterations 10000 → 1; save_dir '/home/ubuntu/gan_images/' → '.'; the lines that save images with `image.array_to_img` (they need PIL) and the matplotlib cell left out. The reference run keeps the noisy labels within [0, 1]: Keras 3.15's torch backend refuses binary cross-entropy targets above 1 ("all elements of target should be between 0 and 1"), which TensorFlow's accepted.
keras3: keras.optimizers.RMSprop(lr=0.0008, clipvalue=1.0, decay=1e-8) => keras.optimizers.RMSprop(learning_rate=0.0008, clipvalue=1.0, decay=1e-8)
keras3: keras.optimizers.RMSprop(lr=0.0004, clipvalue=1.0, decay=1e-8) => keras.optimizers.RMSprop(learning_rate=0.0004, clipvalue=1.0, decay=1e-8)
keras3: labels += 0.05 * np.random.random(labels.shape) => labels -= 0.05 * np.random.random(labels.shape) * labels
keras3: gan.save_weights("gan.h5") => gan.save_weights("gan.weights.h5")
"""

import cornu as keras

keras.__version__

import cornu as keras
from cornu import layers
import numpy as np

latent_dim = 32
height = 32
width = 32
channels = 3

generator_input = keras.Input(shape=(latent_dim,))

# First, transform the input into a 16x16 128-channels feature map
x = layers.Dense(128 * 16 * 16)(generator_input)
x = layers.LeakyReLU()(x)
x = layers.Reshape((16, 16, 128))(x)

# Then, add a convolution layer
x = layers.Conv2D(256, 5, padding="same")(x)
x = layers.LeakyReLU()(x)

# Upsample to 32x32
x = layers.Conv2DTranspose(256, 4, strides=2, padding="same")(x)
x = layers.LeakyReLU()(x)

# Few more conv layers
x = layers.Conv2D(256, 5, padding="same")(x)
x = layers.LeakyReLU()(x)
x = layers.Conv2D(256, 5, padding="same")(x)
x = layers.LeakyReLU()(x)

# Produce a 32x32 1-channel feature map
x = layers.Conv2D(channels, 7, activation="tanh", padding="same")(x)
generator = keras.models.Model(generator_input, x)
generator.summary()

discriminator_input = layers.Input(shape=(height, width, channels))
x = layers.Conv2D(128, 3)(discriminator_input)
x = layers.LeakyReLU()(x)
x = layers.Conv2D(128, 4, strides=2)(x)
x = layers.LeakyReLU()(x)
x = layers.Conv2D(128, 4, strides=2)(x)
x = layers.LeakyReLU()(x)
x = layers.Conv2D(128, 4, strides=2)(x)
x = layers.LeakyReLU()(x)
x = layers.Flatten()(x)

# One dropout layer - important trick!
x = layers.Dropout(0.4)(x)

# Classification layer
x = layers.Dense(1, activation="sigmoid")(x)

discriminator = keras.models.Model(discriminator_input, x)
discriminator.summary()

# To stabilize training, we use learning rate decay
# and gradient clipping (by value) in the optimizer.
discriminator_optimizer = keras.optimizers.RMSprop(lr=0.0008, clipvalue=1.0, decay=1e-8)
discriminator.compile(optimizer=discriminator_optimizer, loss="binary_crossentropy")

# Set discriminator weights to non-trainable
# (will only apply to the `gan` model)
discriminator.trainable = False

gan_input = keras.Input(shape=(latent_dim,))
gan_output = discriminator(generator(gan_input))
gan = keras.models.Model(gan_input, gan_output)

gan_optimizer = keras.optimizers.RMSprop(lr=0.0004, clipvalue=1.0, decay=1e-8)
gan.compile(optimizer=gan_optimizer, loss="binary_crossentropy")


# Load CIFAR10 data
(x_train, y_train), (_, _) = keras.datasets.cifar10.load_data()

# Select frog images (class 6)
x_train = x_train[y_train.flatten() == 6]

# Normalize data
x_train = x_train.reshape((x_train.shape[0],) + (height, width, channels)).astype("float32") / 255.0

iterations = 1
batch_size = 20
save_dir = "."

# Start training loop
start = 0
for step in range(iterations):
    # Sample random points in the latent space
    random_latent_vectors = np.random.normal(size=(batch_size, latent_dim))

    # Decode them to fake images
    generated_images = generator.predict(random_latent_vectors)

    # Combine them with real images
    stop = start + batch_size
    real_images = x_train[start:stop]
    combined_images = np.concatenate([generated_images, real_images])

    # Assemble labels discriminating real from fake images
    labels = np.concatenate([np.ones((batch_size, 1)), np.zeros((batch_size, 1))])
    # Add random noise to the labels - important trick!
    labels += 0.05 * np.random.random(labels.shape)

    # Train the discriminator
    d_loss = discriminator.train_on_batch(combined_images, labels)

    # sample random points in the latent space
    random_latent_vectors = np.random.normal(size=(batch_size, latent_dim))

    # Assemble labels that say "all real images"
    misleading_targets = np.zeros((batch_size, 1))

    # Train the generator (via the gan model,
    # where the discriminator weights are frozen)
    a_loss = gan.train_on_batch(random_latent_vectors, misleading_targets)

    start += batch_size
    if start > len(x_train) - batch_size:
        start = 0

    # Occasionally save / plot
    if step % 100 == 0:
        # Save model weights
        gan.save_weights("gan.h5")

        # Print metrics
        print("discriminator loss at step %s: %s" % (step, d_loss))
        print("adversarial loss at step %s: %s" % (step, a_loss))

# --- checks ---
from tests.compat.harness import report

report(
    model_generator=generator,
    model_discriminator=discriminator,
    model_gan=gan,
    predictions=generated_images,
    evaluation_d_loss=d_loss,
    evaluation_a_loss=a_loss,
)
