"""Attention: which source positions matter for the next output token.

Bahdanau et al. (2015), additive attention:

    score(s, h_j) = v_a^T tanh(W_a s + U_a h_j)
    weights = softmax(scores over src_len, padding masked *before* the softmax)
    context = sum_j weights_j h_j

The query ``s`` is the decoder's previous state. ``U_a h_j`` (the keys) does
not depend on the decoder step, so it is computed once per source batch
(``precompute_keys``), not at every step (seed bug 6). Padding gets exactly
zero weight (seed bug 2).

Luong et al. (2015) multiplicative attention ("dot" and "general") is the
going-further variant.

Taught in: lessons/03_attention.ipynb
"""

from __future__ import annotations

import keras
from keras import ops

NEG_INF = -1e9  # exp(NEG_INF - max) underflows to exactly 0.0 in float32


def masked_softmax(scores, mask=None):
    """Softmax over the last axis giving padded positions exactly zero weight.

    Args:
        scores: `(batch, src_len)` (or `(..., src_len)`) unnormalised scores.
        mask: bool, same shape, True for real tokens; None means no padding.

    Returns:
        weights of the same shape; each row sums to 1 over the real positions.
    """
    if mask is not None:
        scores = ops.where(mask, scores, ops.full_like(scores, NEG_INF))
    return ops.softmax(scores, axis=-1)


def _check_query_values(layer, query, values, keys, key_units):
    if len(query.shape) != 2 or len(values.shape) != 3:
        raise ValueError(
            f"{layer} expects query (batch, units) and values (batch, src_len, units); "
            f"received query {tuple(query.shape)} and values {tuple(values.shape)}."
        )
    if keys is not None and (len(keys.shape) != 3 or keys.shape[-1] != key_units):
        raise ValueError(
            f"{layer} expects keys (batch, src_len, {key_units}) from precompute_keys; "
            f"received {tuple(keys.shape)}."
        )


@keras.saving.register_keras_serializable(package="s2s_helpers")
class BahdanauAttention(keras.layers.Layer):
    """Additive attention with the decoder's previous state as the query.

    Args:
        attention_units: size of the hidden layer inside the score (W_a, U_a).

    Call arguments:
        query: previous decoder state, shape `(batch, units)`.
        values: encoder outputs, shape `(batch, src_len, units)`.
        keys: optional ``precompute_keys(values)``, `(batch, src_len, attention_units)`.
        mask: bool `(batch, src_len)`, True for real tokens.

    Returns:
        context: `(batch, units)` and weights: `(batch, src_len)`.
    """

    def __init__(self, attention_units: int = 128, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # the mask is consumed here, not passed on
        self.attention_units = attention_units
        self.query_layer = keras.layers.Dense(
            attention_units, use_bias=False, name="query_layer"
        )
        self.key_layer = keras.layers.Dense(
            attention_units, use_bias=False, name="key_layer"
        )
        self.energy_layer = keras.layers.Dense(1, use_bias=False, name="energy_layer")

    def build(self, query_shape, values_shape):
        for layer, shape in [
            (self.query_layer, query_shape),
            (self.key_layer, values_shape),
            (self.energy_layer, (*values_shape[:-1], self.attention_units)),
        ]:
            if not layer.built:  # precompute_keys may have built key_layer already
                layer.build(shape)
        self.built = True

    def precompute_keys(self, values):
        """``U_a h_j`` for every source position: `(batch, src_len, attention_units)`."""
        return self.key_layer(values)

    def call(self, query, values, keys=None, mask=None):
        _check_query_values(
            "BahdanauAttention", query, values, keys, self.attention_units
        )
        if keys is None:
            keys = self.precompute_keys(values)  # (batch, src_len, attention_units)
        # 1. project the query and add it to every key
        projected = self.query_layer(query)[:, None, :]  # (batch, 1, attention_units)
        # 2. one score per source position
        scores = self.energy_layer(ops.tanh(projected + keys))[
            ..., 0
        ]  # (batch, src_len)
        # 3. mask padding *before* the softmax, over src_len
        weights = masked_softmax(scores, mask)  # (batch, src_len)
        # 4. context: the weighted sum of the values
        context = ops.einsum("bs,bsu->bu", weights, values)  # (batch, units)
        return context, weights

    def compute_mask(self, *args, **kwargs):
        return None

    def get_config(self):
        return {**super().get_config(), "attention_units": self.attention_units}


@keras.saving.register_keras_serializable(package="s2s_helpers")
class LuongAttention(keras.layers.Layer):
    """Multiplicative attention: ``score = s . h_j`` ("dot") or ``s . W h_j`` ("general").

    Args:
        units: size of the query and values (needed for "general").
        score: "dot" or "general".

    Call arguments and returns: as :class:`BahdanauAttention`; for "dot" the
    query and values must have the same size.
    """

    def __init__(self, units: int = 128, score: str = "general", **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # the mask is consumed here, not passed on
        if score not in {"dot", "general"}:
            raise ValueError(f"score must be 'dot' or 'general', received {score!r}")
        self.units = units
        self.score = score
        self.key_layer = (
            keras.layers.Dense(units, use_bias=False, name="key_layer")
            if score == "general"
            else None
        )

    def build(self, query_shape, values_shape):
        if self.key_layer is not None and not self.key_layer.built:
            self.key_layer.build(values_shape)
        self.built = True

    def precompute_keys(self, values):
        """``W h_j`` ("general") or ``h_j`` ("dot"): `(batch, src_len, units)`."""
        return values if self.key_layer is None else self.key_layer(values)

    def call(self, query, values, keys=None, mask=None):
        _check_query_values("LuongAttention", query, values, keys, query.shape[-1])
        if keys is None:
            keys = self.precompute_keys(values)
        scores = ops.einsum("bu,bsu->bs", query, keys)  # (batch, src_len)
        weights = masked_softmax(scores, mask)
        context = ops.einsum("bs,bsu->bu", weights, values)  # (batch, units)
        return context, weights

    def compute_mask(self, *args, **kwargs):
        return None

    def get_config(self):
        return {**super().get_config(), "units": self.units, "score": self.score}
