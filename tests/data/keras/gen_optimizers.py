"""Keras 3 reference data: Variable trajectories of optimizers, schedules and clipping over 4 steps
(`optimizers.json`).

Run by generate.py (which gives the venv and versions), or alone:
    KERAS_BACKEND=torch /tmp/kerasref/bin/python tests/data/keras/gen_optimizers.py
"""

import json

from keras_ref import BACKEND, KERAS_VERSION, keras, np, to_list, write_json

S = keras.optimizers.schedules
# (key = the constructor call, exactly; factory)
OPTIMIZER_CASES = [
    ("SGD()", lambda: keras.optimizers.SGD()),
    ("SGD(0.1, momentum=0.9)", lambda: keras.optimizers.SGD(0.1, momentum=0.9)),
    (
        "SGD(0.1, momentum=0.9, nesterov=True)",
        lambda: keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    ),
    ("RMSprop()", lambda: keras.optimizers.RMSprop()),
    (
        "RMSprop(momentum=0.5, centered=True)",
        lambda: keras.optimizers.RMSprop(momentum=0.5, centered=True),
    ),
    ("Adam()", lambda: keras.optimizers.Adam()),
    ("Adam(amsgrad=True)", lambda: keras.optimizers.Adam(amsgrad=True)),
    ("AdamW()", lambda: keras.optimizers.AdamW()),
    ("AdamW(weight_decay=0.1)", lambda: keras.optimizers.AdamW(weight_decay=0.1)),
    ("Adagrad()", lambda: keras.optimizers.Adagrad()),
    ("Adadelta()", lambda: keras.optimizers.Adadelta()),
    ("Adadelta(learning_rate=1.0)", lambda: keras.optimizers.Adadelta(learning_rate=1.0)),
    ("Adamax()", lambda: keras.optimizers.Adamax()),
    ("Nadam()", lambda: keras.optimizers.Nadam()),
    (
        "Adam(learning_rate=ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5))",
        lambda: keras.optimizers.Adam(
            learning_rate=S.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
        ),
    ),
    (
        "SGD(learning_rate=CosineDecay(0.1, decay_steps=4))",
        lambda: keras.optimizers.SGD(learning_rate=S.CosineDecay(0.1, decay_steps=4)),
    ),
    (
        "SGD(learning_rate=PiecewiseConstantDecay([1, 2], [0.1, 0.05, 0.01]))",
        lambda: keras.optimizers.SGD(
            learning_rate=S.PiecewiseConstantDecay([1, 2], [0.1, 0.05, 0.01])
        ),
    ),
    (
        "SGD(learning_rate=InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5))",
        lambda: keras.optimizers.SGD(
            learning_rate=S.InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)
        ),
    ),
    ("SGD(0.1, clipnorm=0.5)", lambda: keras.optimizers.SGD(0.1, clipnorm=0.5)),
    ("SGD(0.1, clipvalue=0.3)", lambda: keras.optimizers.SGD(0.1, clipvalue=0.3)),
    ("SGD(0.1, global_clipnorm=0.5)", lambda: keras.optimizers.SGD(0.1, global_clipnorm=0.5)),
]


def gen_optimizers():
    v0 = np.array([0.5, -1.2, 3.0, 0.1], dtype="float32")
    grads = np.random.default_rng(1).normal(size=(4, 4)).astype("float32")
    trajectories = {}
    for key, factory in OPTIMIZER_CASES:
        keras.backend.clear_session()
        opt = factory()
        var = keras.Variable(v0, dtype="float32", name="v")
        steps, lrs = [], []
        for t in range(4):
            lrs.append(float(keras.ops.convert_to_numpy(opt.learning_rate)))
            opt.apply_gradients([(keras.ops.convert_to_tensor(grads[t]), var)])
            steps.append(to_list(var.value))
        cfg = opt.get_config()
        trajectories[key] = {
            "after_step": steps,
            "learning_rate_used": lrs,
            "config": json.loads(json.dumps(cfg, default=str)),
        }
    write_json(
        "optimizers.json",
        {
            "keras_version": KERAS_VERSION,
            "backend": BACKEND,
            "notes": [
                "v0 and gradients are float32. Step t applies "
                "optimizer.apply_gradients([(gradients[t], var)]); after_step[t] is var after it.",
                "gradients = numpy.random.default_rng(1).normal(size=(4, 4)) cast to float32.",
                "learning_rate_used[t] = optimizer.learning_rate read just before step t "
                "(schedules are evaluated at optimizer.iterations = t).",
            ],
            "v0": v0.tolist(),
            "gradients": grads.astype(np.float64).tolist(),
            "trajectories": trajectories,
        },
    )


if __name__ == "__main__":
    gen_optimizers()
