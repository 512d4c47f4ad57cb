"""Training & evaluation with the built-in methods (guide): EarlyStopping(min_delta),
ModelCheckpoint with {epoch} and {loss:.2f} in the file name and save_freq in batches,
make-or-restore from the latest checkpoint, an ExponentialDecay learning-rate schedule

source: https://github.com/keras-team/keras-io/blob/master/guides/training_with_built_in_methods.py (sections "Using callbacks", "Checkpointing models", "Using learning rate schedules")
license: Apache-2.0
kind: declarative
changed: `from tensorflow import keras` / `from tensorflow.keras import layers` → cornu; MNIST from the fake Keras cache (512 train; reshape 60000 → 512, validation [-10000:] → [-128:]); epochs 20 → 3, 2 → 2, save_freq 100 → 2 batches; the last optimizer is used in a compile and fit (the guide only builds it); the TensorBoard cell left out (it needs TensorFlow); return values kept for the checks.
keras3: filepath="mymodel_{epoch}", => filepath="mymodel_{epoch}.keras",
keras3: filepath=checkpoint_dir + "/ckpt-loss={loss:.2f}", save_freq=2 => filepath=checkpoint_dir + "/ckpt-loss={loss:.2f}.keras", save_freq=2
"""

import cornu as keras
from cornu import layers

inputs = keras.Input(shape=(784,), name="digits")
x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
x = layers.Dense(64, activation="relu", name="dense_2")(x)
outputs = layers.Dense(10, activation="softmax", name="predictions")(x)

model = keras.Model(inputs=inputs, outputs=outputs)

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()

# Preprocess the data (these are NumPy arrays)
x_train = x_train.reshape(512, 784).astype("float32") / 255
x_test = x_test.reshape(128, 784).astype("float32") / 255

y_train = y_train.astype("float32")
y_test = y_test.astype("float32")

# Reserve 10,000 samples for validation
x_val = x_train[-128:]
y_val = y_train[-128:]
x_train = x_train[:-128]
y_train = y_train[:-128]


def get_uncompiled_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


def get_compiled_model():
    model = get_uncompiled_model()
    model.compile(
        optimizer="rmsprop",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    return model


model = get_compiled_model()

callbacks = [
    keras.callbacks.EarlyStopping(
        # Stop training when `val_loss` is no longer improving
        monitor="val_loss",
        # "no longer improving" being defined as "no better than 1e-2 less"
        min_delta=1e-2,
        # "no longer improving" being further defined as "for at least 2 epochs"
        patience=2,
        verbose=1,
    )
]
history_early = model.fit(
    x_train,
    y_train,
    epochs=3,
    batch_size=64,
    callbacks=callbacks,
    validation_split=0.2,
)


class LossHistory(keras.callbacks.Callback):
    def on_train_begin(self, logs):
        self.per_batch_losses = []

    def on_batch_end(self, batch, logs):
        self.per_batch_losses.append(logs.get("loss"))


model = get_compiled_model()

callbacks = [
    keras.callbacks.ModelCheckpoint(
        # Path where to save the model
        # The two parameters below mean that we will overwrite
        # the current checkpoint if and only if
        # the `val_loss` score has improved.
        # The saved model name will include the current epoch.
        filepath="mymodel_{epoch}",
        save_best_only=True,  # Only save a model if `val_loss` has improved.
        monitor="val_loss",
        verbose=1,
    )
]
history_checkpoint = model.fit(
    x_train, y_train, epochs=2, batch_size=64, callbacks=callbacks, validation_split=0.2
)

import os

# Prepare a directory to store all the checkpoints.
checkpoint_dir = "./ckpt"
if not os.path.exists(checkpoint_dir):
    os.makedirs(checkpoint_dir)


def make_or_restore_model():
    # Either restore the latest model, or create a fresh one
    # if there is no checkpoint available.
    checkpoints = [checkpoint_dir + "/" + name for name in os.listdir(checkpoint_dir)]
    if checkpoints:
        latest_checkpoint = max(checkpoints, key=os.path.getctime)
        print("Restoring from", latest_checkpoint)
        return keras.models.load_model(latest_checkpoint)
    print("Creating a new model")
    return get_compiled_model()


model = make_or_restore_model()
callbacks = [
    # This callback saves a SavedModel every 100 batches.
    # We include the training loss in the saved model name.
    keras.callbacks.ModelCheckpoint(filepath=checkpoint_dir + "/ckpt-loss={loss:.2f}", save_freq=2)
]
history_ckpt = model.fit(x_train, y_train, epochs=1, callbacks=callbacks)
restored = make_or_restore_model()

initial_learning_rate = 0.1
lr_schedule = keras.optimizers.schedules.ExponentialDecay(
    initial_learning_rate, decay_steps=100000, decay_rate=0.96, staircase=True
)

optimizer = keras.optimizers.RMSprop(learning_rate=lr_schedule)

model = get_uncompiled_model()
model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
history_schedule = model.fit(x_train, y_train, epochs=1, callbacks=[LossHistory()])

# --- checks ---
from tests.compat.harness import report

report(
    model=model,
    model_restored=restored,
    history_early=history_early,
    history_checkpoint=history_checkpoint,
    history_ckpt=history_ckpt,
    history_schedule=history_schedule,
    checkpoints_saved=len(os.listdir(checkpoint_dir)) > 0,
)
