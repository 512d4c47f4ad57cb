"""Working with Keras (2nd edition): a functional model with three inputs and two outputs,
compiled with lists and then with dicts by name; layer inputs/outputs reused for a new model

source: https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/second_edition/chapter07_working-with-keras.ipynb (section "The Functional API": "A simple example", "Multi-input, multi-output models", "Retrieving the inputs or outputs of a layer in a Functional model")
license: MIT
kind: declarative
changed: `from tensorflow…` imports → cornu; num_samples 1280 → 128; the keras.utils.plot_model cells left out (they need pydot and graphviz); fit's and evaluate's return values kept for the checks.
"""

import cornu as keras
from cornu import layers

inputs = keras.Input(shape=(3,), name="my_input")
features = layers.Dense(64, activation="relu")(inputs)
outputs = layers.Dense(10, activation="softmax")(features)
model = keras.Model(inputs=inputs, outputs=outputs)

inputs = keras.Input(shape=(3,), name="my_input")
inputs.shape
inputs.dtype
features = layers.Dense(64, activation="relu")(inputs)
features.shape
outputs = layers.Dense(10, activation="softmax")(features)
model = keras.Model(inputs=inputs, outputs=outputs)
model.summary()
small_model = model

vocabulary_size = 10000
num_tags = 100
num_departments = 4

title = keras.Input(shape=(vocabulary_size,), name="title")
text_body = keras.Input(shape=(vocabulary_size,), name="text_body")
tags = keras.Input(shape=(num_tags,), name="tags")

features = layers.Concatenate()([title, text_body, tags])
features = layers.Dense(64, activation="relu")(features)

priority = layers.Dense(1, activation="sigmoid", name="priority")(features)
department = layers.Dense(num_departments, activation="softmax", name="department")(features)

model = keras.Model(inputs=[title, text_body, tags], outputs=[priority, department])

import numpy as np

num_samples = 128

title_data = np.random.randint(0, 2, size=(num_samples, vocabulary_size))
text_body_data = np.random.randint(0, 2, size=(num_samples, vocabulary_size))
tags_data = np.random.randint(0, 2, size=(num_samples, num_tags))

priority_data = np.random.random(size=(num_samples, 1))
department_data = np.random.randint(0, 2, size=(num_samples, num_departments))

model.compile(
    optimizer="rmsprop",
    loss=["mean_squared_error", "categorical_crossentropy"],
    metrics=[["mean_absolute_error"], ["accuracy"]],
)
history_lists = model.fit(
    [title_data, text_body_data, tags_data], [priority_data, department_data], epochs=1
)
score_lists = model.evaluate(
    [title_data, text_body_data, tags_data], [priority_data, department_data]
)
priority_preds, department_preds = model.predict([title_data, text_body_data, tags_data])

model.compile(
    optimizer="rmsprop",
    loss={"priority": "mean_squared_error", "department": "categorical_crossentropy"},
    metrics={"priority": ["mean_absolute_error"], "department": ["accuracy"]},
)
history_dicts = model.fit(
    {"title": title_data, "text_body": text_body_data, "tags": tags_data},
    {"priority": priority_data, "department": department_data},
    epochs=1,
)
score_dicts = model.evaluate(
    {"title": title_data, "text_body": text_body_data, "tags": tags_data},
    {"priority": priority_data, "department": department_data},
)
priority_preds, department_preds = model.predict(
    {"title": title_data, "text_body": text_body_data, "tags": tags_data}
)

model.layers
model.layers[3].input
model.layers[3].output

features = model.layers[4].output
difficulty = layers.Dense(3, activation="softmax", name="difficulty")(features)

new_model = keras.Model(inputs=[title, text_body, tags], outputs=[priority, department, difficulty])

# --- checks ---
from tests.compat.harness import report

report(
    model_small=small_model,
    model=model,
    model_new=new_model,
    history_lists=history_lists,
    history_dicts=history_dicts,
    score_lists=score_lists,
    score_dicts=score_dicts,
    predictions=[priority_preds, department_preds],
    layer_names=[layer.name for layer in model.layers],
    layer_3_output=model.layers[3].output.shape,
)
