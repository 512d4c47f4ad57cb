"""Working with Keras (2nd edition): a functional MNIST model trained with EarlyStopping and
ModelCheckpoint(save_best_only), then reloaded with keras.models.load_model

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/second_edition/chapter07_working-with-keras.ipynb (sections "The standard workflow: compile(), fit(), evaluate(), predict()" and "Using callbacks")
license: MIT
kind: declarative
changed: `from tensorflow…` imports → cornu; MNIST from the fake Keras cache (512 train, 128 test), so the reshapes' 60000/10000 became 512/128 and the validation split [10000:]/[:10000] → [128:]/[:128]; epochs 3 → 1 and 10 → 3; fit's return values kept for the checks.
"""

import cornu as keras
from cornu import layers
from cornu.datasets import mnist


def get_mnist_model():
    inputs = keras.Input(shape=(28 * 28,))
    features = layers.Dense(512, activation="relu")(inputs)
    features = layers.Dropout(0.5)(features)
    outputs = layers.Dense(10, activation="softmax")(features)
    model = keras.Model(inputs, outputs)
    return model


(images, labels), (test_images, test_labels) = mnist.load_data()
images = images.reshape((512, 28 * 28)).astype("float32") / 255
test_images = test_images.reshape((128, 28 * 28)).astype("float32") / 255
train_images, val_images = images[128:], images[:128]
train_labels, val_labels = labels[128:], labels[:128]

model = get_mnist_model()
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(train_images, train_labels, epochs=1, validation_data=(val_images, val_labels))
test_metrics = model.evaluate(test_images, test_labels)
predictions = model.predict(test_images)

callbacks_list = [
    keras.callbacks.EarlyStopping(
        monitor="val_accuracy",
        patience=2,
    ),
    keras.callbacks.ModelCheckpoint(
        filepath="checkpoint_path.keras",
        monitor="val_loss",
        save_best_only=True,
    ),
]
model = get_mnist_model()
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history_callbacks = model.fit(
    train_images,
    train_labels,
    epochs=3,
    callbacks=callbacks_list,
    validation_data=(val_images, val_labels),
)

model = keras.models.load_model("checkpoint_path.keras")

# --- checks ---
from tests.compat.harness import report

report(
    model=model,
    history=history,
    evaluation=test_metrics,
    predictions=predictions,
    history_callbacks_keys=sorted(history_callbacks.history),
    reloaded_predictions=model.predict(test_images[:4]),
)
