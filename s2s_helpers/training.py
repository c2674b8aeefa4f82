"""Training: the teacher-forcing step and a resumable fit loop.

The ``Trainer`` compiles one train step. With a teacher-forcing ratio that is
1.0 throughout, the step is the model's own teacher-forced call; with a
schedule that lowers it, the step runs ``scheduled_sampling.unroll`` (taught
in this lesson too) and feeds the schedule's ratio of the current step.

Seed bug 9: the classic tutorial had no validation, metric or checkpoint.

Taught in: lessons/06_teacher_forcing.ipynb
"""

from __future__ import annotations

import dataclasses
import json
import time
import warnings
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from s2s_helpers import losses, scheduled_sampling


def make_optimizer(name: str = "adam", learning_rate: float | None = None):
    """Adam, RMSprop or SGD (with momentum) by name, with sensible learning rates."""
    defaults = {"adam": 1e-3 * 5, "rmsprop": 1e-3 * 2, "sgd": 0.5}
    name = name.lower()
    if name not in defaults:
        raise ValueError(
            f"optimizer must be one of {sorted(defaults)}, received {name!r}"
        )
    rate = learning_rate or defaults[name]
    if name == "adam":
        return keras.optimizers.Adam(rate, clipnorm=5.0)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(rate, clipnorm=5.0)
    return keras.optimizers.SGD(rate, momentum=0.9, clipnorm=5.0)


@dataclasses.dataclass
class Plateau:
    """Early stopping and learning-rate decay on a held-out metric, best weights kept.

    After each epoch ``Trainer.fit`` hands the epoch's record to ``update``. An
    epoch that improves ``monitor`` is the new best (its weights are copied);
    after one that does not, the learning rate is multiplied by ``lr_factor``,
    and after ``patience`` of them in a row training stops. ``fit`` then puts
    the best epoch's weights back (``restore_best``).

    Args:
        monitor: a key of the history, e.g. "val_loss" (a key with "loss" in it:
            lower is better) or "val_bleu" (any other key: higher is better).
        patience: epochs without improvement before stopping; None never stops.
        lr_factor: multiply the learning rate by this after an epoch without
            improvement; None keeps it.
        restore_best: give the model the best epoch's weights at the end.
    """

    monitor: str = "val_loss"
    patience: int | None = 3
    lr_factor: float | None = None
    restore_best: bool = True
    best: float | None = None
    best_epoch: int | None = None
    wait: int = 0
    weights: list | None = dataclasses.field(default=None, repr=False)

    def update(self, record: dict[str, float], epoch: int, model, optimizer) -> bool:
        """Note one epoch (numbered from 1); True when training should stop."""
        if self.monitor not in record:
            raise ValueError(
                f"Plateau monitors {self.monitor!r}, but the epoch recorded only "
                f"{sorted(record)}: give fit the val_data or val_fn that measure it."
            )
        value, lower = record[self.monitor], "loss" in self.monitor
        if self.best is None or (value < self.best if lower else value > self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.weights = model.get_weights()  # copies already
            return False
        self.wait += 1
        if self.lr_factor is not None:
            if not isinstance(optimizer.learning_rate, keras.Variable):
                raise ValueError(
                    "lr_factor needs an optimizer with a constant learning rate; "
                    f"received {type(optimizer.learning_rate).__name__}."
                )
            optimizer.learning_rate.assign(optimizer.learning_rate * self.lr_factor)
        return self.patience is not None and self.wait >= self.patience

    def restore(self, model) -> None:
        """Give ``model`` the best epoch's weights (when ``restore_best``)."""
        if self.restore_best and self.weights is not None:
            model.set_weights(self.weights)


class Trainer:
    """Train a ``Seq2Seq`` model: compiled step, schedules, history, checkpoints.

    Args:
        model: a ``seq2seq.EncoderDecoder`` (``Seq2Seq``, ``SpeechRecognizer``);
            with the ratio 1.0 throughout, any model with ``call(inputs,
            training)``.
        optimizer: a Keras optimizer or its name ("adam", "rmsprop", "sgd").
        schedule: scheduled-sampling schedule name
            (``scheduled_sampling.SCHEDULES``).
        start_ratio, end_ratio: the schedule's end points.
        sampling: "argmax" or "sample" for the model's own tokens.
        jit_compile: True compiles the step with XLA (falls back to a plain
            graph if XLA fails), False keeps a plain graph, "auto" times both on
            the first batches of ``fit`` and keeps the faster (``xla_choice``
            says which, and why).
        checkpoint_dir: save after each epoch; an existing one is resumed.
        seed: seed of the scheduled-sampling coins.
    """

    def __init__(
        self,
        model,
        optimizer="adam",
        schedule: str = "constant",
        start_ratio: float = 1.0,
        end_ratio: float = 0.0,
        sampling: str = "argmax",
        jit_compile: bool | str = True,
        checkpoint_dir: str | Path | None = None,
        seed: int = 0,
    ):
        if jit_compile not in (True, False, "auto"):
            raise ValueError(
                f'jit_compile must be True, False or "auto"; received {jit_compile!r}.'
            )
        self.model = model
        self.optimizer = (
            make_optimizer(optimizer) if isinstance(optimizer, str) else optimizer
        )
        scheduled_sampling.teacher_forcing_ratio(  # fails early on a bad schedule
            schedule, 0, 1, start_ratio, max(end_ratio, 1e-6)
        )
        # ratio 1.0 throughout: a step without any scheduled-sampling op
        self.teacher_forced = scheduled_sampling.always_teacher_forced(
            schedule, start_ratio, end_ratio
        )
        self.schedule, self.start_ratio, self.end_ratio = (
            schedule,
            start_ratio,
            end_ratio,
        )
        self.sampling = sampling
        self.jit_compile = jit_compile
        self.seed = seed
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.history: dict[str, list[float]] = {}
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self._train_step = None
        self._eval_step = None
        self._manager = None
        self.trace_count = 0
        self.xla_choice = ""  # with jit_compile="auto": the choice and its reason
        self.epoch_seconds: list[float] = []  # training time of the last fit's epochs

    @property
    def train_seconds(self) -> float:
        """Training time of the last ``fit``, validation excluded (``epoch_seconds``)."""
        return float(sum(self.epoch_seconds))

    # --- the compiled steps -----------------------------------------------------

    def train_step(self, inputs, tgt_out_ids, ratio, seed):
        """One training step, not compiled: ``fit`` compiles it (Exercise 6.1's step).

        Args:
            inputs: ``(src_ids, tgt_in_ids)``, int `(batch, src_len)` and
                `(batch, tgt_len)`.
            tgt_out_ids: int `(batch, tgt_len)`, padding 0.
            ratio: scalar, the teacher-forcing ratio of this step (unused when
                ``teacher_forced``: the step has no coin, argmax or select).
            seed: int `(2,)`, the stateless seed of the scheduled-sampling coins.

        Returns:
            the batch's masked loss and masked accuracy, before the update.
        """
        self.trace_count += 1  # Python side effect: runs once per trace only
        with tf.GradientTape() as tape:
            if self.teacher_forced:
                logits = self.model(inputs, training=True)
            else:
                logits, _ = scheduled_sampling.unroll(
                    self.model, inputs, ratio, seed, self.sampling, training=True
                )
            loss = losses.masked_loss(tgt_out_ids, logits)
        variables = self.model.trainable_variables
        gradients = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(gradients, variables))
        return loss, losses.masked_accuracy(tgt_out_ids, logits)

    def _eval_step_fn(self, inputs, tgt_out_ids):
        logits = self.model(inputs, training=False)
        return losses.masked_loss(tgt_out_ids, logits), losses.masked_accuracy(
            tgt_out_ids, logits
        )

    def _compile(self, dataset) -> None:
        """Trace once with the dataset's signature (batch axis None: no retracing).

        The step is traced, and compiled by XLA, at its first call; a source
        length of None in the signature (``make_dataset(buckets=...)``) keeps
        one trace, and XLA compiles once per source shape it meets.
        """
        if self._train_step is not None:
            return
        inputs_spec, target_spec = tf.nest.map_structure(
            lambda spec: tf.TensorSpec([None, *spec.shape[1:]], spec.dtype),
            dataset.element_spec,
        )
        scalar = tf.TensorSpec([], tf.float32)
        seed_spec = tf.TensorSpec([2], tf.int32)
        self._build(dataset)
        signature = [inputs_spec, target_spec, scalar, seed_spec]
        plain = tf.function(self.train_step, input_signature=signature)
        if self.jit_compile == "auto" and target_spec.shape[1] is None:
            # batches cut to their own target length (make_dataset's
            # target_buckets): the decoder's loop is a tf.while_loop of unknown
            # length, which XLA does not compile; a failed try also slows the
            # plain graph down afterwards (measured), so there is no try
            self._train_step = plain
            self._say_choice(
                "plain",
                "the batches' target length varies (target_buckets), so the decoder "
                "loops with a tf.while_loop of unknown length, which XLA does not "
                "compile",
            )
        elif self.jit_compile:
            xla = tf.function(
                self.train_step, input_signature=signature, jit_compile=True
            )
            auto = self.jit_compile == "auto"
            self._train_step = _FirstCallFallback(xla, plain, warn=not auto)
            if auto:
                self._train_step = _MeasuredChoice(
                    self._train_step, plain, self._say_choice
                )
        else:
            self._train_step = plain
        # evaluation data may be bucketed when the training data is not (or the
        # reverse): its source length is left free (one trace, no XLA)
        (src_spec, tgt_in_spec) = inputs_spec
        free_src = tf.TensorSpec([None, None, *src_spec.shape[2:]], src_spec.dtype)
        self._eval_step = tf.function(
            self._eval_step_fn,
            input_signature=[(free_src, tgt_in_spec), target_spec],
        )

    def _build(self, dataset) -> None:
        (src_ids, tgt_in_ids), _ = next(iter(dataset))
        self.model((src_ids[:1], tgt_in_ids[:1]))
        self.optimizer.build(self.model.trainable_variables)
        if self.checkpoint_dir is not None:
            # Keras 3 variables are listed explicitly: a Keras model is not a
            # tf.train checkpoint dependency by itself.
            checkpoint = tf.train.Checkpoint(
                weights=list(self.model.weights),
                optimizer_variables=list(self.optimizer.variables),
                epoch=self.epoch,
                step=self.step,
            )
            self._manager = tf.train.CheckpointManager(
                checkpoint, self.checkpoint_dir, 3
            )
            if self._manager.latest_checkpoint:
                checkpoint.restore(
                    self._manager.latest_checkpoint
                ).assert_existing_objects_matched()
                history = self.checkpoint_dir / "history.json"
                if history.exists():
                    self.history = json.loads(history.read_text())

    # --- the loop ------------------------------------------------------------------

    def current_ratio(self, total_steps: int) -> float:
        """The teacher-forcing ratio for the current global step."""
        return scheduled_sampling.teacher_forcing_ratio(
            self.schedule,
            int(self.step.numpy()),
            total_steps,
            self.start_ratio,
            self.end_ratio,
        )

    def evaluate(self, dataset) -> dict[str, float]:
        """Teacher-forced loss and accuracy over a dataset (weighted by batches)."""
        self._compile(dataset)
        results = [self._eval_step(*batch) for batch in dataset]
        loss, accuracy = np.mean(np.array(results, dtype=np.float64), axis=0)
        return {"loss": float(loss), "accuracy": float(accuracy)}

    def fit(
        self,
        train_data,
        epochs: int,
        val_data=None,
        val_fn: Callable[[object], dict[str, float]] | None = None,
        verbose: int = 1,
        plateau: Plateau | None = None,
        time_budget: float | None = None,
    ) -> dict[str, list[float]]:
        """Train up to ``epochs`` in total (a resumed run continues its count).

        Args:
            train_data: ``((src_ids, tgt_in_ids), tgt_out_ids)`` batches.
            val_data: optional held-out batches (teacher-forced loss/accuracy).
            val_fn: optional ``fn(model) -> dict`` of extra held-out metrics,
                e.g. free-running exact match, recorded with a ``val_`` prefix.
            verbose: 1 for a progress bar per epoch, 0 for silence.
            plateau: early stopping / learning-rate decay on a held-out metric,
                the best epoch's weights restored at the end (``Plateau``).
            time_budget: seconds of training (validation not counted); the
                epoch running when it is spent ends after its current step.
                ``train_seconds`` and ``epoch_seconds`` record the time spent,
                counted from each epoch's start to the end of its last step.

        Returns:
            the history: a list per metric, one value per epoch.
        """
        self._compile(train_data)
        steps_per_epoch = int(train_data.cardinality().numpy())
        total_steps = max(1, steps_per_epoch * epochs)
        self.epoch_seconds, stop = [], False
        while int(self.epoch.numpy()) < epochs and not stop:
            if verbose:
                print(f"Epoch {int(self.epoch.numpy()) + 1}/{epochs}")
            left = None if time_budget is None else time_budget - self.train_seconds
            record = self._train_epoch(
                train_data, steps_per_epoch, total_steps, verbose, left
            )
            stop = time_budget is not None and self.train_seconds >= time_budget
            record.update(self._validate(val_data, val_fn))
            for key, value in record.items():
                self.history.setdefault(key, []).append(float(value))
            self.epoch.assign_add(1)
            if verbose and len(record) > 3:
                print("  " + "  ".join(
                    f"{k}={v:.4f}" for k, v in record.items() if k.startswith("val_")
                ))  # fmt: skip
            if plateau is not None:
                epoch = int(self.epoch.numpy())
                stop = plateau.update(record, epoch, self.model, self.optimizer) or stop
            self._save()
        if plateau is not None:
            plateau.restore(self.model)
        return self.history

    def _train_epoch(
        self,
        train_data,
        steps_per_epoch: int,
        total_steps: int,
        verbose: int,
        seconds_left: float | None = None,
    ) -> dict[str, float]:
        """One pass over ``train_data`` (cut short when ``seconds_left`` run out):
        mean loss and accuracy, the last ratio; records its time in ``epoch_seconds``."""
        bar = keras.utils.Progbar(
            steps_per_epoch if steps_per_epoch > 0 else None,
            verbose=verbose,
            stateful_metrics=["ratio"],
        )
        totals, count = np.zeros(2), 0
        ratio = self.current_ratio(total_steps)
        started = stepped = time.perf_counter()
        for inputs, tgt_out_ids in train_data:
            ratio = self.current_ratio(total_steps)
            loss, accuracy = self._run_step(inputs, tgt_out_ids, ratio)
            totals += (loss, accuracy)
            count += 1
            bar.update(
                count, [("loss", loss), ("accuracy", accuracy), ("ratio", ratio)]
            )
            stepped = time.perf_counter()
            if seconds_left is not None and stepped - started >= seconds_left:
                break
        # training time runs to the end of the last step: closing the data
        # pipeline afterwards is not training, and the budget never sees it
        self.epoch_seconds.append(stepped - started)
        return {
            "loss": totals[0] / max(count, 1),
            "accuracy": totals[1] / max(count, 1),
            "teacher_forcing_ratio": ratio,
        }

    def _run_step(self, inputs, tgt_out_ids, ratio: float) -> tuple[float, float]:
        """The compiled step at the current global step's seed; counts the step."""
        seed = tf.constant([self.seed, int(self.step.numpy()) % (2**31 - 1)], tf.int32)
        loss, accuracy = self._train_step(
            inputs, tgt_out_ids, tf.constant(ratio, tf.float32), seed
        )
        self.step.assign_add(1)
        return float(loss), float(accuracy)

    def _say_choice(self, kind: str, why: str) -> None:
        """Record and print what ``jit_compile="auto"`` chose, and why."""
        self.xla_choice = f"jit_compile='auto' chose {kind}: {why}."
        print(self.xla_choice)

    def _validate(self, val_data, val_fn) -> dict[str, float]:
        """The held-out metrics of ``fit``, each with a ``val_`` prefix."""
        record = {}
        if val_data is not None:
            record.update({f"val_{k}": v for k, v in self.evaluate(val_data).items()})
        if val_fn is not None:
            record.update({f"val_{k}": float(v) for k, v in val_fn(self.model).items()})
        return record

    def _save(self) -> None:
        if self._manager is None:
            return
        self._manager.save(checkpoint_number=int(self.epoch.numpy()))
        target = self.checkpoint_dir / "history.json"
        partial = target.with_suffix(".json.tmp")
        partial.write_text(json.dumps(self.history))
        partial.replace(target)


class _FirstCallFallback:
    """Call the XLA step; if its first call fails, use the plain graph instead.

    XLA rejects some ops only when it compiles, which happens at the first
    call, before anything is computed or assigned. A step that fails for
    another reason fails again, with the same error, on the plain graph.
    """

    def __init__(self, xla, plain, warn: bool = True):
        self.function, self.plain, self.first = xla, plain, True
        self.warn, self.failure = warn, ""

    def __call__(self, *args):
        if not self.first:
            return self.function(*args)
        try:
            result = self.function(*args)
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as error:
            self.failure = str(error.message).strip().splitlines()[0][:200]
            if self.warn:
                warnings.warn(
                    f"XLA could not compile the train step ({self.failure}); training "
                    "goes on without XLA (Trainer(jit_compile=False) skips this try).",
                    stacklevel=2,
                )
            self.function = self.plain
            result = self.function(*args)
        self.first = False
        return result

    @property
    def uses_xla(self) -> bool:
        return self.function is not self.plain

    def experimental_get_tracing_count(self) -> int:
        return self.function.experimental_get_tracing_count()


class _MeasuredChoice:
    """``jit_compile="auto"``: time the XLA step and the plain one, keep the faster.

    The first ``trials`` batches of a shape already compiled run with XLA, the
    next ones on the plain graph (a first call of a new shape compiles or
    traces, and is not timed); every one of them is a real training step. The
    cost compared is seconds per batch position (batch x source and target
    lengths), so batches cut to different lengths compare fairly. XLA's
    one-off compile per batch shape is reported, not counted. ``say(kind,
    why)`` is told the choice once it is made.
    """

    def __init__(self, xla: _FirstCallFallback, plain, say, trials: int = 4):
        self.xla, self.plain, self.say, self.trials = xla, plain, say, trials
        self.function = None
        self.timed = {"XLA": [0.0, 0, 0], "plain": [0.0, 0, 0]}  # s, positions, n
        self.seen = {"XLA": set(), "plain": set()}
        self.compile_seconds = 0.0

    def __call__(self, *args):
        if self.function is not None:
            return self.function(*args)
        kind = "XLA" if self.timed["XLA"][2] < self.trials else "plain"
        function = self.xla if kind == "XLA" else self.plain
        inputs, targets = args[0], args[1]
        shape = tuple(tuple(x.shape) for x in (*inputs, targets))
        started = time.perf_counter()
        result = function(*args)
        float(result[0])  # wait for the step to finish
        seconds = time.perf_counter() - started
        if kind == "XLA" and not self.xla.uses_xla:  # XLA could not compile
            self._choose(
                "plain", f"XLA could not compile the step ({self.xla.failure})"
            )
        elif shape not in self.seen[kind]:
            self.seen[kind].add(shape)
            if kind == "XLA":
                self.compile_seconds += seconds
        else:
            positions = shape[0][0] * (shape[0][1] + shape[-1][1])
            seconds_sum, positions_sum, count = self.timed[kind]
            self.timed[kind] = [
                seconds_sum + seconds,
                positions_sum + positions,
                count + 1,
            ]
            if self.timed["plain"][2] >= self.trials:
                self._decide()
        return result

    def _decide(self) -> None:
        per = {k: 1e6 * s / p for k, (s, p, _) in self.timed.items()}  # us per position
        faster = min(per, key=per.get)
        self._choose(
            faster,
            f"XLA {per['XLA']:.1f} us vs plain {per['plain']:.1f} us per batch "
            f"position over {self.trials} steps each (XLA compiled in "
            f"{self.compile_seconds / max(1, len(self.seen['XLA'])):.1f} s per batch shape)",
        )

    def _choose(self, kind: str, why: str) -> None:
        self.function = self.xla if kind == "XLA" else self.plain
        self.say(kind, why)

    @property
    def uses_xla(self) -> bool:
        return self.function is self.xla and self.xla.uses_xla

    def experimental_get_tracing_count(self) -> int:
        return (self.function or self.xla).experimental_get_tracing_count()
