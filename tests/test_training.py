import collections
import math
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from s2s_helpers import data, losses, seq2seq, training


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


def _assert_trains_alike(date_arrays, padded, cut):
    """Three SGD steps on each batch, from the same weights, give the same weights."""
    models = [_model(date_arrays), _model(date_arrays)]
    for model, batch in zip(models, (padded, cut)):
        model(batch[0])
        initial = model.get_weights()
        dataset = tf.data.Dataset.from_tensors(batch)
        training.Trainer(model, keras.optimizers.SGD(0.5), jit_compile=False).fit(
            dataset, 3, verbose=0
        )
        assert not np.allclose(model.get_weights()[0], initial[0])  # it trained
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_a_batch_cut_to_its_bucket_trains_exactly_like_the_padded_batch(date_arrays):
    """Cutting trailing padding (``make_dataset(buckets=...)``) changes nothing."""
    _, _, (src, tgt_in, tgt_out), _, _ = date_arrays
    short = np.flatnonzero(data.source_lengths(src).numpy() <= 16)[:64]
    batch = ((src[short], tgt_in[short]), tgt_out[short])
    cut = ((src[short, :16], tgt_in[short]), tgt_out[short])
    _assert_trains_alike(date_arrays, batch, cut)


def test_a_batch_cut_to_its_target_bucket_trains_exactly_like_the_padded_batch(
    date_arrays,
):
    """Cutting trailing target padding (``target_buckets``) changes nothing either."""
    _, _, (src, tgt_in, tgt_out), _, _ = date_arrays
    tgt_in, tgt_out = tgt_in[:64].copy(), tgt_out[:64].copy()
    tgt_in[:, 7:], tgt_out[:, 6:] = 0, 0  # shorter targets: 6 tokens, [END] 7th
    tgt_out[:, 6] = data.END_ID
    padded = ((src[:64], tgt_in), tgt_out)
    cut = ((src[:64], tgt_in[:, :7]), tgt_out[:, :7])
    _assert_trains_alike(date_arrays, padded, cut)


def test_auto_jit_times_both_steps_and_says_which_it_kept(date_arrays, capsys):
    trainer = training.Trainer(_model(date_arrays), "adam", jit_compile="auto")
    trainer.fit(_dataset(date_arrays, 64 * 12), 1, verbose=0)
    assert int(trainer.step.numpy()) == 12  # every timed step trained
    choice = trainer._train_step
    assert choice.timed["XLA"][2] == choice.timed["plain"][2] == 4
    per = {k: s / p for k, (s, p, _) in choice.timed.items()}
    kept = "XLA" if per["XLA"] < per["plain"] else "plain"
    assert choice.uses_xla == (kept == "XLA")
    assert trainer.xla_choice.startswith(f"jit_compile='auto' chose {kept}: XLA ")
    assert "per batch position" in trainer.xla_choice
    assert trainer.xla_choice in capsys.readouterr().out
    with pytest.raises(ValueError, match="True, False or \"auto\"; received 'yes'"):
        training.Trainer(_model(date_arrays), "adam", jit_compile="yes")


def test_auto_jit_keeps_the_plain_graph_when_target_lengths_vary(date_arrays, capsys):
    _, _, (src, tgt_in, tgt_out), _, _ = date_arrays
    dataset = data.make_dataset(
        (src[:128], tgt_in[:128], tgt_out[:128]), 64, buckets=(16, 24),
        target_buckets=(11,),
    )  # fmt: skip
    trainer = training.Trainer(_model(date_arrays), "adam", jit_compile="auto")
    trainer.fit(dataset, 1, verbose=0)
    assert "target length varies" in trainer.xla_choice
    assert trainer.xla_choice in capsys.readouterr().out
    assert not isinstance(trainer._train_step, training._MeasuredChoice)
    assert int(trainer.step.numpy()) == int(dataset.cardinality())  # it trained


class NotForXla(seq2seq.Seq2Seq):
    """A model with an op XLA cannot compile (a Python function in the graph)."""

    def call(self, inputs, training=None):
        logits = super().call(inputs, training)
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
    auto = training.Trainer(NotForXla(src_vocab.size, tgt_vocab.size, 8, 16),
                            keras.optimizers.SGD(0.1), jit_compile="auto")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the choice says it: no warning
        auto.fit(dataset, 1, verbose=0)
    assert auto.xla_choice.startswith(
        "jit_compile='auto' chose plain: XLA could not compile the step ("
    )
    assert not auto._train_step.uses_xla


def _step_op_counts(trainer, dataset) -> collections.Counter:
    """How many ops of each type the train step's graph has, traced for ``dataset``."""
    (src_spec, tgt_in_spec), tgt_out_spec = dataset.element_spec
    step = tf.function(trainer.train_step).get_concrete_function(
        (src_spec, tgt_in_spec),
        tgt_out_spec,
        tf.TensorSpec([], tf.float32),
        tf.TensorSpec([2], tf.int32),
    )
    return collections.Counter(op.type for op in step.graph.get_operations())


def test_a_ratio_of_one_throughout_builds_no_scheduled_sampling_op(date_arrays):
    """Teacher forcing all the way: no coin, no own-token argmax in the train step.

    With a schedule, each of the tgt_len - 1 steps after [START] adds one coin
    draw and one argmax (the model's own token) to the graph.
    """
    dataset = _dataset(date_arrays, 64)
    steps_mixed = dataset.element_spec[1].shape[1] - 1  # tgt_len - 1
    forced = training.Trainer(_model(date_arrays), "adam", jit_compile=False)
    scheduled = training.Trainer(
        _model(date_arrays), "adam", schedule="linear", jit_compile=False
    )
    counts = {}
    for name, trainer in (("forced", forced), ("scheduled", scheduled)):
        trainer._build(dataset)
        counts[name] = _step_op_counts(trainer, dataset)
    assert forced.teacher_forced and not scheduled.teacher_forced
    assert counts["forced"]["StatelessRandomUniformV2"] == 0
    assert counts["scheduled"]["StatelessRandomUniformV2"] == steps_mixed
    extra_argmax = counts["scheduled"]["ArgMax"] - counts["forced"]["ArgMax"]
    assert extra_argmax == steps_mixed


def test_optimizer_names():
    assert isinstance(training.make_optimizer("sgd"), keras.optimizers.SGD)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        training.make_optimizer("adagrad")


def _scripted(values):
    """A val_fn that reports the given scores epoch after epoch and keeps, for
    each epoch, a copy of the weights it was scored with."""
    seen = []

    def val_fn(model):
        seen.append([np.array(w) for w in model.get_weights()])
        return {"score": values[len(seen) - 1]}

    return val_fn, seen


def test_plateau_stops_restores_the_best_weights_and_lowers_the_rate(date_arrays):
    dataset = _dataset(date_arrays, 128)
    model = _model(date_arrays)
    optimizer = keras.optimizers.SGD(0.5)
    trainer = training.Trainer(model, optimizer, jit_compile=False)
    val_fn, seen = _scripted([0.1, 0.4, 0.3, 0.2, 0.9, 0.95])  # best: epoch 2
    plateau = training.Plateau("val_score", patience=2, lr_factor=0.5)
    history = trainer.fit(dataset, 6, val_fn=val_fn, verbose=0, plateau=plateau)
    assert len(history["loss"]) == 4  # epochs 3 and 4 did not improve: stop
    assert plateau.best_epoch == 2 and plateau.best == pytest.approx(0.4)
    for restored, best in zip(model.get_weights(), seen[1]):
        np.testing.assert_array_equal(restored, best)
    assert not all(np.array_equal(a, b) for a, b in zip(seen[1], seen[3]))
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.5 * 0.5 * 0.5)


def test_plateau_on_a_loss_prefers_lower_and_names_a_missing_metric(date_arrays):
    plateau = training.Plateau("val_loss", patience=None)
    model = _model(date_arrays)
    model(next(iter(_dataset(date_arrays, 64)))[0])
    optimizer = keras.optimizers.SGD(0.1)
    assert not plateau.update({"val_loss": 2.0}, 1, model, optimizer)
    assert not plateau.update({"val_loss": 1.0}, 2, model, optimizer)
    assert not plateau.update({"val_loss": 3.0}, 3, model, optimizer)  # no patience
    assert plateau.best_epoch == 2 and plateau.wait == 1
    with pytest.raises(ValueError, match="monitors 'val_bleu'.*val_fn"):
        training.Plateau("val_bleu").update({"loss": 1.0}, 1, model, optimizer)


def test_a_time_budget_ends_training_after_the_current_step(date_arrays):
    dataset = _dataset(date_arrays, 256)  # 4 steps per epoch
    trainer = training.Trainer(_model(date_arrays), "adam", jit_compile=False)
    history = trainer.fit(dataset, 5, verbose=0, time_budget=0.0)
    assert len(history["loss"]) == 1 and int(trainer.step.numpy()) == 1
    assert trainer.train_seconds > 0
    assert trainer.epoch_seconds == [trainer.train_seconds]
    trainer.fit(dataset, 3, verbose=0)  # a new fit counts its own epochs only
    assert len(trainer.epoch_seconds) == 2


def test_the_date_models_step_compiles_with_xla(date_arrays):
    """The teacher-forced unroll at a fixed tgt_len is one XLA graph (no fallback)."""
    import warnings

    trainer = training.Trainer(_model(date_arrays), "adam", jit_compile=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the fallback warns
        trainer.fit(_dataset(date_arrays, 128), 1, verbose=0)
    assert trainer._train_step.uses_xla
