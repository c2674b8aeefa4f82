import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from s2s_helpers import data, losses, seq2seq, training


@pytest.mark.parametrize("schedule", ["linear", "exponential", "inverse_sigmoid"])
def test_schedules_hit_their_end_points_and_decrease(schedule):
    start, end, total = 1.0, 0.05, 1000
    values = [
        training.teacher_forcing_ratio(schedule, s, total, start, end)
        for s in range(0, 1201, 50)
    ]
    assert values[0] == pytest.approx(start)
    assert training.teacher_forcing_ratio(
        schedule, total, total, start, end
    ) == pytest.approx(end)
    assert values[-1] == pytest.approx(end)  # stays at the end point after total_steps
    assert all(a >= b - 1e-12 for a, b in zip(values, values[1:]))


def test_schedule_shapes_follow_bengio_et_al():
    total = 1000
    linear_mid = training.teacher_forcing_ratio("linear", 500, total, 1.0, 0.0)
    sigmoid_mid = training.teacher_forcing_ratio(
        "inverse_sigmoid", 500, total, 1.0, 0.0
    )
    exp_mid = training.teacher_forcing_ratio("exponential", 500, total, 1.0, 0.01)
    assert linear_mid == pytest.approx(0.5)
    assert exp_mid == pytest.approx(0.1)  # geometric mean of the end points
    assert 0.35 < sigmoid_mid < 0.65  # the midpoint sits at half way
    assert (
        training.teacher_forcing_ratio("inverse_sigmoid", 100, total, 1.0, 0.0) > 0.9
    )  # slow start


def test_schedule_errors():
    with pytest.raises(ValueError, match="schedule must be one of"):
        training.teacher_forcing_ratio("cosine", 0, 10)
    with pytest.raises(ValueError, match="end > 0"):
        training.teacher_forcing_ratio("exponential", 0, 10, 1.0, 0.0)
    with pytest.raises(ValueError, match="positive"):
        training.teacher_forcing_ratio("linear", 0, 0)


def test_mix_tokens_ratio_end_points_and_frequency():
    true = tf.fill([10000], 7)
    predicted = tf.fill([10000], 9)
    seed = tf.constant([3, 4])
    assert (training.mix_tokens(true, predicted, 1.0, seed).numpy() == 7).all()
    assert (training.mix_tokens(true, predicted, 0.0, seed).numpy() == 9).all()
    mixed = training.mix_tokens(true, predicted, 0.3, seed).numpy()
    assert abs((mixed == 7).mean() - 0.3) < 0.02  # per position, not one coin for all
    np.testing.assert_array_equal(
        mixed, training.mix_tokens(true, predicted, 0.3, seed).numpy()
    )


def _dataset(date_arrays, size=256):
    _, _, (src, tgt_in, tgt_out), _, _ = date_arrays
    return data.make_dataset((src[:size], tgt_in[:size], tgt_out[:size]), 64)


def _model(date_arrays):
    src_vocab, tgt_vocab = date_arrays[:2]
    keras.utils.set_random_seed(5)
    return seq2seq.Seq2Seq(src_vocab.size, tgt_vocab.size, 8, 16)


def test_checkpoint_resume_continues_the_same_run(date_arrays, tmp_path):
    dataset = _dataset(date_arrays)
    straight = training.Trainer(
        _model(date_arrays), "adam", schedule="linear", end_ratio=0.5, jit_compile=False
    )
    straight.fit(dataset, 2, verbose=0)

    calls = []

    def interrupt_in_epoch_two(model):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the run dies after epoch 1 was saved
        return {}

    first = training.Trainer(
        _model(date_arrays),
        "adam",
        schedule="linear",
        end_ratio=0.5,
        checkpoint_dir=tmp_path,
        jit_compile=False,
    )
    with pytest.raises(KeyboardInterrupt):
        first.fit(dataset, 2, val_fn=interrupt_in_epoch_two, verbose=0)
    resumed_model = _model(date_arrays)  # fresh weights, replaced by the checkpoint
    resumed = training.Trainer(
        resumed_model,
        "adam",
        schedule="linear",
        end_ratio=0.5,
        checkpoint_dir=tmp_path,
        jit_compile=False,
    )
    history = resumed.fit(dataset, 2, verbose=0)
    assert len(history["loss"]) == 2 and int(resumed.step.numpy()) == 8
    for a, b in zip(straight.model.get_weights(), resumed_model.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(history["loss"], straight.history["loss"], rtol=1e-4)


def test_history_validation_and_ratio(date_arrays):
    dataset = _dataset(date_arrays)
    trainer = training.Trainer(
        _model(date_arrays),
        "rmsprop",
        schedule="linear",
        end_ratio=0.0,
        jit_compile=False,
    )
    history = trainer.fit(
        dataset, 2, val_data=dataset, val_fn=lambda m: {"custom": 0.5}, verbose=0
    )
    assert set(history) >= {
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "val_custom",
        "teacher_forcing_ratio",
    }
    assert history["teacher_forcing_ratio"][1] < history["teacher_forcing_ratio"][0]
    assert all(math.isfinite(v) for v in history["val_loss"])


OPTIMIZERS = {
    "sgd": lambda: keras.optimizers.SGD(0.5),
    "adam": lambda: keras.optimizers.Adam(0.01),
}


def _padded_targets(date_arrays, size):
    """Date batches whose odd rows end 4 tokens early: targets with padding."""
    _, _, arrays, _, _ = date_arrays
    src, tgt_in, tgt_out = (np.array(a[:size]) for a in arrays)
    tgt_in[1::2, -4:], tgt_out[1::2, -5:] = 0, 0
    return data.make_dataset((src, tgt_in, tgt_out), 64)


def _fit_both(date_arrays, optimizer, keras_loss, steps=4):
    """The Trainer and Keras ``compile``/``fit`` from the same weights and batches.

    Returns:
        the Trainer's model, the Keras-trained model and the weights they
        started from, after ``steps`` steps each (teacher forcing: ratio 1).
    """
    dataset = _padded_targets(date_arrays, 64 * steps)
    models = [_model(date_arrays), _model(date_arrays)]  # seed 5: same weights
    for model in models:
        model(next(iter(dataset))[0])
    initial = models[0].get_weights()
    trainer = training.Trainer(models[0], OPTIMIZERS[optimizer](), jit_compile=False)
    trainer.fit(dataset, 1, verbose=0)
    models[1].compile(OPTIMIZERS[optimizer](), keras_loss, jit_compile=False)
    models[1].fit(dataset, epochs=1, shuffle=False, verbose=0)
    assert int(trainer.step.numpy()) == steps
    return models[0], models[1], initial


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_trainer_agrees_with_keras_fit(date_arrays, optimizer):
    """Keras' own training loop is the oracle: same model, loss, optimiser, data."""
    ours, oracle, initial = _fit_both(date_arrays, optimizer, losses.masked_loss)
    moved = max(np.abs(b - a).max() for a, b in zip(initial, oracle.get_weights()))
    assert moved > 1e-2  # it trained
    for a, b in zip(ours.get_weights(), oracle.get_weights()):
        np.testing.assert_allclose(a, b, atol=2e-5)


def test_the_keras_oracle_tells_a_loss_over_padding_apart(date_arrays):
    """The tolerance above is tight: averaging over padding moves the weights off."""
    ours, oracle, _ = _fit_both(date_arrays, "adam", losses.padded_mean_loss)
    difference = max(
        np.abs(a - b).max() for a, b in zip(ours.get_weights(), oracle.get_weights())
    )
    assert difference > 1e-3


def test_a_batch_cut_to_its_bucket_trains_exactly_like_the_padded_batch(date_arrays):
    """Cutting trailing padding (``make_dataset(buckets=...)``) changes nothing."""
    _, _, (src, tgt_in, tgt_out), _, _ = date_arrays
    short = np.flatnonzero(data.source_lengths(src).numpy() <= 16)[:64]
    batch = ((src[short], tgt_in[short]), tgt_out[short])
    cut = ((src[short, :16], tgt_in[short]), tgt_out[short])
    models = [_model(date_arrays), _model(date_arrays)]
    for model, inputs in zip(models, (batch, cut)):
        model(inputs[0])
        initial = model.get_weights()
        dataset = tf.data.Dataset.from_tensors(inputs)
        training.Trainer(model, keras.optimizers.SGD(0.5), jit_compile=False).fit(
            dataset, 3, verbose=0
        )
        assert not np.allclose(model.get_weights()[0], initial[0])  # it trained
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


class NotForXla(seq2seq.Seq2Seq):
    """A model with an op XLA cannot compile (a Python function in the graph)."""

    def call(
        self,
        inputs,
        training=None,
        teacher_forcing_ratio=None,
        seed=None,
        sampling="argmax",
    ):
        logits = super().call(inputs, training, teacher_forcing_ratio, seed, sampling)
        marker = tf.ensure_shape(
            tf.py_function(lambda: tf.constant(0.0), [], tf.float32), []
        )
        return logits + tf.stop_gradient(marker)


def test_a_step_xla_rejects_falls_back_to_the_plain_graph(date_arrays):
    src_vocab, tgt_vocab = date_arrays[:2]
    keras.utils.set_random_seed(5)
    model = NotForXla(src_vocab.size, tgt_vocab.size, 8, 16)
    trainer = training.Trainer(model, keras.optimizers.SGD(0.1), jit_compile=True)
    dataset = _dataset(date_arrays, 128)
    model(next(iter(dataset))[0])
    before = model.get_weights()[0].copy()
    with pytest.warns(UserWarning, match="goes on without XLA"):
        trainer.fit(dataset, 1, verbose=0)
    assert not trainer._train_step.uses_xla
    assert int(trainer.step.numpy()) == 2
    assert not np.allclose(model.get_weights()[0], before)
    plain = training.Trainer(_model(date_arrays), "adam", jit_compile=True)
    plain.fit(_dataset(date_arrays, 64), 1, verbose=0)
    assert plain._train_step.uses_xla


def test_optimizer_names():
    assert isinstance(training.make_optimizer("sgd"), keras.optimizers.SGD)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        training.make_optimizer("adagrad")


@pytest.mark.parametrize("total_steps", [10, 1000, 50_000])
def test_inverse_sigmoid_k_puts_the_midpoint_at_half_the_steps(total_steps):
    k = training.inverse_sigmoid_k(total_steps)
    assert k > 1.0
    assert k * math.log(k) == pytest.approx(total_steps / 2, rel=1e-9)
