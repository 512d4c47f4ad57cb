"""Chapter 3 of *Deep Learning with Python*, trained on Cornu through the Keras-like SDK.

The book's workflow (define the training data, define a network of layers, configure
the learning process with `compile`, iterate with `fit`) on its three kinds of problem,
with scikit-learn's bundled datasets in place of the downloads:

- 3.4 binary classification (movie reviews there): breast-cancer diagnoses;
- 3.5 single-label multiclass classification (newswires there): handwritten digits,
  one-hot labels and categorical crossentropy;
- 3.6 scalar regression (Boston house prices there): diabetes progression, with K-fold
  validation because the data are few.

It runs wherever `CORNU_URL` / `CORNU_API_KEY` point (after `cornu up`, the defaults):

    python examples/chapter3.py
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.model_selection import train_test_split

from cornu import layers, models, optimizers


def standardize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Feature-wise normalisation with the training data's mean and std (3.6.2)."""
    mean, std = train.mean(axis=0), train.std(axis=0) + 1e-7
    return ((train - mean) / std).astype("float32"), ((test - mean) / std).astype("float32")


def to_categorical(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes, dtype="float32")[labels]


def binary_classification() -> float:
    """3.4: two Dense(16, relu) layers and a sigmoid unit, validated on held-out data."""
    x, y = load_breast_cancer(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    x_train, x_test = standardize(x_train, x_test)
    y_train, y_test = y_train.astype("float32"), y_test.astype("float32")

    model = models.Sequential()
    model.add(layers.Dense(16, activation="relu", input_shape=(x.shape[1],)))
    model.add(layers.Dense(16, activation="relu"))
    model.add(layers.Dense(1, activation="sigmoid"))
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x_train, y_train, epochs=20, batch_size=32, validation_data=(x_test, y_test)
    )
    loss, accuracy = model.evaluate(x_test, y_test)
    best = int(np.argmin(history.history["val_loss"])) + 1
    print(f"breast cancer: test accuracy {accuracy:.4f} (loss {loss:.4f}); best epoch {best}")
    return float(accuracy)


def multiclass_classification() -> float:
    """3.5: one-hot labels, a softmax over the classes, categorical crossentropy."""
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    x_train, x_test = standardize(x_train, x_test)
    one_hot_train = to_categorical(y_train, 10)

    model = models.Sequential()
    model.add(layers.Dense(64, activation="relu", input_shape=(64,)))
    model.add(layers.Dense(64, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile(
        optimizer=optimizers.RMSprop(lr=0.001),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, one_hot_train, epochs=20, batch_size=64, validation_split=0.2, verbose=2)
    predictions = model.predict(x_test)
    accuracy = float(np.mean(np.argmax(predictions, axis=1) == y_test))
    print(f"digits: test accuracy {accuracy:.4f}; each prediction sums to 1:", end=" ")
    print(bool(np.allclose(predictions.sum(axis=1), 1.0, atol=1e-4)))
    return accuracy


def regression(k: int = 4) -> float:
    """3.6: a linear output unit, mse loss and mae metric, K-fold validation."""
    x, y = load_diabetes(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    x_train, x_test = standardize(x_train, x_test)
    y_train, y_test = y_train.astype("float32"), y_test.astype("float32")

    def build_model() -> models.Sequential:
        model = models.Sequential()
        model.add(layers.Dense(64, activation="relu", input_shape=(x_train.shape[1],)))
        model.add(layers.Dense(64, activation="relu"))
        model.add(layers.Dense(1))
        model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
        return model

    fold = len(x_train) // k
    scores = []
    for i in range(k):
        held = slice(i * fold, (i + 1) * fold)
        rest = np.r_[0 : i * fold, (i + 1) * fold : len(x_train)]
        model = build_model()
        model.fit(x_train[rest], y_train[rest], epochs=40, batch_size=16, verbose=0)
        _, mae = model.evaluate(x_train[held], y_train[held])
        print(f"diabetes: fold {i + 1}/{k} validation MAE {mae:.1f}")
        scores.append(mae)
    model = build_model()  # the final model, on all the training data
    model.fit(x_train, y_train, epochs=40, batch_size=16, verbose=0)
    _, test_mae = model.evaluate(x_test, y_test)
    print(f"diabetes: mean K-fold MAE {np.mean(scores):.1f}; test MAE {test_mae:.1f}")
    return float(test_mae)


def main() -> None:
    binary_classification()
    multiclass_classification()
    regression()


if __name__ == "__main__":
    main()
