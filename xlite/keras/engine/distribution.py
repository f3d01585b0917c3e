"""What fit asks of a tf.distribute strategy whose scope made the model (xlite.distribute pushes the
strategies whose scope is open here: keras sits below it and cannot import it).

A strategy over MPI processes splits each global batch across the processes (`local_rows`), averages the
replicas' gradients with an all-reduce (`average_gradients`), and makes every process shuffle alike
(`synchronize_host_random_state`). Without a strategy each of these is the identity.
"""
from __future__ import annotations

_open_scopes: list = []


def current_strategy():
    """The strategy whose scope() is innermost, or None."""
    return _open_scopes[-1] if _open_scopes else None


def enter_scope(strategy) -> None:
    _open_scopes.append(strategy)


def exit_scope(strategy) -> None:
    _open_scopes.remove(strategy)


def local_batch(model, x, y, w) -> tuple:
    """This process's rows of a global batch (x, y, w: nested arrays whose dimension 0 is the batch)."""
    strategy = getattr(model, "_distribution_strategy", None)
    return (x, y, w) if strategy is None else strategy._local_rows((x, y, w))


def average_gradients(model, grads: list, batch_rows) -> list:
    """The gradients of the global batch's mean loss, from this replica's (`batch_rows` rows)."""
    strategy = getattr(model, "_distribution_strategy", None)
    return grads if strategy is None else strategy._average_gradients(grads, batch_rows)


def synchronize_host_random_state(model) -> None:
    """Every process shuffles the data as process 0 does (fit's shuffling draws from NumPy's global RNG)."""
    strategy = getattr(model, "_distribution_strategy", None)
    if strategy is not None:
        strategy._synchronize_host_random_state()


__all__ = ["current_strategy", "enter_scope", "exit_scope", "local_batch", "average_gradients",
           "synchronize_host_random_state"]
