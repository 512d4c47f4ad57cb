"""Keras 3 reference data: Test accuracy of a small MLP on scikit-learn datasets over 5 seeds (`parity.json`).

Run by generate.py (which gives the venv and versions), or alone:
    KERAS_BACKEND=torch /tmp/kerasref/bin/python tests/data/keras/gen_parity.py
"""

from keras_ref import BACKEND, KERAS_VERSION, keras, np, write_json
from keras_ref import layers as L


def gen_parity():
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    datasets = {
        "digits": (load_digits, 10, "softmax", "sparse_categorical_crossentropy"),
        "breast_cancer": (load_breast_cancer, 1, "sigmoid", "binary_crossentropy"),
    }
    results = {}
    for name, (loader, units, act, loss) in datasets.items():
        x, y = loader(return_X_y=True)
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=0)
        scaler = StandardScaler().fit(x_tr)
        x_tr = scaler.transform(x_tr).astype("float32")
        x_te = scaler.transform(x_te).astype("float32")
        accs = []
        for seed in range(5):
            keras.backend.clear_session()
            keras.utils.set_random_seed(seed)
            model = keras.Sequential(
                [
                    keras.Input((x.shape[1],)),
                    L.Dense(64, activation="relu"),
                    L.Dense(units, activation=act),
                ]
            )
            model.compile(optimizer=keras.optimizers.RMSprop(), loss=loss, metrics=["accuracy"])
            model.fit(x_tr, y_tr, epochs=50, batch_size=32, verbose=0)
            _, acc = model.evaluate(x_te, y_te, verbose=0)
            accs.append(float(acc))
            print(f"  {name} seed={seed} acc={acc:.4f}")
        results[name] = {
            "n_train": int(len(x_tr)),
            "n_test": int(len(x_te)),
            "model": f"Dense(64, relu) -> Dense({units}, {act})",
            "loss": loss,
            "test_accuracy": accs,
            "mean": float(np.mean(accs)),
        }
    write_json(
        "parity.json",
        {
            "keras_version": KERAS_VERSION,
            "backend": BACKEND,
            "protocol": "train_test_split(test_size=0.2, random_state=0); StandardScaler fit on train; "
            "RMSprop() defaults; epochs=50, batch_size=32 (shuffle=True default); "
            "keras.utils.set_random_seed(seed) for seed in 0..4; metric from model.evaluate on test split.",
            "results": results,
        },
    )


if __name__ == "__main__":
    gen_parity()
