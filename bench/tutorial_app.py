"""The tutorial's Flask app, kept as the baseline for bench/api.py: Keras `model.predict` on every request.

Three changes: our model scales pixels itself, so the 0-255 values go in as sent (reshaped to the model's
28x28 input); Keras's progress bar is off; and only the probabilities are returned (our model also gives a
digit score, which the tutorial's had not).
Run: gunicorn --workers 1 --chdir bench --bind 127.0.0.1:5000 tutorial_app:app
"""

import numpy as np
from flask import Flask, jsonify, request

from digitlens.model import load_keras

app = Flask(__name__)

model = load_keras()


@app.route("/home", methods=["GET"])
def home():
    return """
    Hi! This is a Flask app.
    You can get some predictions by hitting the /predict endpoint.
    """


@app.route("/predict", methods=["POST"])
def predict():
    data_client = request.get_json()
    input_data = data_client["input"]
    input_array = np.array(input_data, dtype=float).reshape(-1, 28, 28)
    out, _digit_scores = model.predict(input_array, verbose=0)
    out = np.ndarray.tolist(out)
    return jsonify(out)
