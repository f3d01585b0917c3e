"""TF1's MonitoredSession and MonitoredTrainingSession: a Session that initializes or restores itself, runs
hooks around every run (SessionRunHook protocol) and tells the training loop when to stop. The hooks' fetches
and feeds join the caller's in one Session.run, so each step is still one compiled executable call."""
from __future__ import annotations

from xlite import errors
from xlite.frontend.graph import GraphKeys, get_default_graph
from xlite.frontend.variables import global_variables_initializer, group, local_variables_initializer
from xlite.runtime.session import Session
from xlite.train.basic_hooks import CheckpointSaverHook, StepCounterHook, SummarySaverHook
from xlite.train.coordinator import Coordinator
from xlite.train.saver import Saver, get_checkpoint_state
from xlite.train.session_run_hook import SessionRunArgs, SessionRunContext, SessionRunValues


class Scaffold:
    """The ops a monitored session needs (init, local init, summary, saver); `finalize` makes the missing
    ones from the graph's collections or defaults, then finalizes the graph."""

    def __init__(self, init_op=None, init_feed_dict=None, init_fn=None, ready_op=None,
                 ready_for_local_init_op=None, local_init_op=None, summary_op=None, saver=None, copy_from_scaffold=None,
                 local_init_feed_dict=None):
        self._init_op, self._init_feed_dict = init_op, init_feed_dict
        self._init_fn = (lambda sess: init_fn(self, sess)) if init_fn else None
        self._ready_op, self._ready_for_local_init_op = ready_op, ready_for_local_init_op
        self._local_init_op, self._local_init_feed_dict = local_init_op, local_init_feed_dict
        self._summary_op, self._saver = summary_op, saver

    @staticmethod
    def get_or_default(arg_name: str, collection_key: str, default_constructor):
        graph = get_default_graph()
        ops = graph.get_collection(collection_key)
        if len(ops) > 1:
            raise RuntimeError(f"More than one item in the collection {collection_key}. Please indicate which one "
                               f"to use by passing it to the tf.Scaffold constructor as: "
                               f"tf.Scaffold({arg_name}=item to use)")
        op = ops[0] if ops else default_constructor()
        if op is not None and not ops:
            graph.add_to_collection(collection_key, op)
        return op

    @staticmethod
    def default_local_init_op():
        return group(local_variables_initializer())

    def finalize(self) -> "Scaffold":
        from xlite.summary.summary_ops import merge_all
        if self._init_op is None:
            self._init_op = Scaffold.get_or_default("init_op", GraphKeys.INIT_OP,
                                                    lambda: group(global_variables_initializer()))
        if self._local_init_op is None:
            self._local_init_op = Scaffold.get_or_default("local_init_op", "local_init_op",
                                                          Scaffold.default_local_init_op)
        if self._summary_op is None:
            self._summary_op = Scaffold.get_or_default("summary_op", "summary_op", merge_all)
        if self._saver is None:
            savers = get_default_graph().get_collection(GraphKeys.SAVERS)
            if len(savers) > 1:
                raise RuntimeError(f"More than one item in collection {GraphKeys.SAVERS}. Please indicate which "
                                   "one to use by passing it to the constructor.")
            self._saver = savers[0] if savers else Saver(sharded=True, allow_empty=True)
            if not savers:
                get_default_graph().add_to_collection(GraphKeys.SAVERS, self._saver)
        get_default_graph().finalize()
        return self

    init_op = property(lambda self: self._init_op)
    init_feed_dict = property(lambda self: self._init_feed_dict)
    init_fn = property(lambda self: self._init_fn)
    ready_op = property(lambda self: self._ready_op)
    local_init_op = property(lambda self: self._local_init_op)
    summary_op = property(lambda self: self._summary_op)
    saver = property(lambda self: self._saver)


class ChiefSessionCreator:
    """Makes a Session, then restores the latest checkpoint of `checkpoint_dir` (or the given file) or runs the
    init op and init_fn; the local init op runs either way."""

    def __init__(self, scaffold=None, master="", config=None, checkpoint_dir=None,
                 checkpoint_filename_with_path=None):
        self._scaffold = scaffold or Scaffold()
        self._master, self._config = master, config
        self._checkpoint_dir, self._checkpoint_path = checkpoint_dir, checkpoint_filename_with_path

    def create_session(self) -> Session:
        scaffold = self._scaffold.finalize()
        session = Session(self._master, graph=get_default_graph(), config=self._config)
        path = self._checkpoint_path
        if path is None and self._checkpoint_dir:
            state = get_checkpoint_state(self._checkpoint_dir)
            if state is not None and state.model_checkpoint_path:
                path = state.model_checkpoint_path
                scaffold.saver.recover_last_checkpoints(list(state.all_model_checkpoint_paths))
        if path is not None:
            scaffold.saver.restore(session, path)
        else:
            if scaffold.init_op is None and not scaffold.init_fn and scaffold.local_init_op is None:
                raise RuntimeError("Model is not initialized and no init_op or init_fn or local_init_op was given")
            if scaffold.init_op is not None:
                session.run(scaffold.init_op, feed_dict=scaffold.init_feed_dict)
            if scaffold.init_fn:
                scaffold.init_fn(session)
        if scaffold.local_init_op is not None:
            session.run(scaffold.local_init_op, feed_dict=scaffold._local_init_feed_dict)
        return session


class MonitoredSession:
    """Runs hooks around every `run`; `should_stop()` turns True when a hook or the Coordinator asks, and
    leaving the `with` block on OutOfRangeError or StopIteration is a clean end (the hooks' `end` runs)."""

    def __init__(self, session_creator=None, hooks=None, stop_grace_period_secs: float = 120):
        self._hooks = list(hooks or [])
        for hook in self._hooks:
            hook.begin()
        self._creator = session_creator or ChiefSessionCreator()
        self._stop_grace_period_secs = stop_grace_period_secs
        self._sess = self._creator.create_session()
        self._coord = Coordinator(clean_stop_exception_types=[])
        for hook in self._hooks:
            hook.after_create_session(self._sess, self._coord)
        self._should_stop = False
        self._closed = False

    @property
    def graph(self):
        return self._sess.graph

    def _tf_sess(self) -> Session:
        return self._sess

    def should_stop(self) -> bool:
        return self._closed or self._should_stop or self._coord.should_stop()

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """The caller's run with every hook's SessionRunArgs merged in; returns the caller's results."""
        if self.should_stop():
            raise RuntimeError("Run called even after should_stop requested.")
        context = SessionRunContext(original_args=SessionRunArgs(fetches, feed_dict), session=self._sess)
        all_fetches = {"caller": fetches}
        hook_feeds: dict = {}
        for hook in self._hooks:
            request = hook.before_run(context)
            if request is None:
                continue
            if request.fetches is not None:
                all_fetches[hook] = request.fetches
            if request.feed_dict:
                _raise_if_feeds_intersect(hook_feeds, request.feed_dict, "Same tensor is fed by two hooks.")
                hook_feeds.update(request.feed_dict)
            if request.options is not None:
                options = _merged_options(options, request.options)
        if hook_feeds:
            if feed_dict:
                _raise_if_feeds_intersect(feed_dict, hook_feeds, "Same tensor is fed by a SessionRunHook and user.")
                feed_dict = {**feed_dict, **hook_feeds}
            else:
                feed_dict = hook_feeds
        outputs = self._sess.run(all_fetches, feed_dict=feed_dict, options=options, run_metadata=run_metadata)
        for hook in self._hooks:
            hook.after_run(context, SessionRunValues(results=outputs.get(hook), options=options,
                                                     run_metadata=run_metadata))
        self._should_stop = self._should_stop or context.stop_requested
        return outputs["caller"]

    def run_step_fn(self, step_fn):
        """Calls step_fn(step_context); step_context.run_with_hooks runs through the hooks."""
        monitored = self

        class StepContext:
            session = self._sess

            @staticmethod
            def run_with_hooks(*args, **kwargs):
                return monitored.run(*args, **kwargs)

            @staticmethod
            def request_stop():
                monitored._should_stop = True

        return step_fn(StepContext())

    def close(self) -> None:
        self._close(None)

    def _close(self, exception_type) -> None:
        if self._closed:
            return
        try:
            if exception_type is None:
                for hook in self._hooks:
                    hook.end(self._sess)
        finally:
            self._closed = True
            try:
                self._coord.request_stop()
                self._coord.join(stop_grace_period_secs=self._stop_grace_period_secs)
            finally:
                self._sess.close()

    def __enter__(self) -> "MonitoredSession":
        return self

    def __exit__(self, exception_type, exception_value, traceback) -> bool:
        if exception_type in (errors.OutOfRangeError, StopIteration):
            exception_type = None
        self._close(exception_type)
        return exception_type is None


class SingularMonitoredSession(MonitoredSession):
    """A MonitoredSession on a ChiefSessionCreator made from the arguments; `raw_session()` is the Session."""

    def __init__(self, hooks=None, scaffold=None, master="", config=None, checkpoint_dir=None,
                 stop_grace_period_secs=120, checkpoint_filename_with_path=None):
        creator = ChiefSessionCreator(scaffold=scaffold, master=master, config=config, checkpoint_dir=checkpoint_dir,
                                      checkpoint_filename_with_path=checkpoint_filename_with_path)
        super().__init__(creator, hooks, stop_grace_period_secs)

    def raw_session(self) -> Session:
        return self._sess


def _raise_if_feeds_intersect(feeds1: dict, feeds2: dict, message: str) -> None:
    if set(feeds1) & set(feeds2):
        raise RuntimeError(message + f" Conflict(s): {sorted(str(k) for k in set(feeds1) & set(feeds2))}")


def _merged_options(options, extra):
    """RunOptions of the caller and a hook: the higher trace level and the shorter timeout win."""
    if options is None:
        return extra
    options.trace_level = max(options.trace_level, extra.trace_level)
    if extra.timeout_in_ms and (not options.timeout_in_ms or extra.timeout_in_ms < options.timeout_in_ms):
        options.timeout_in_ms = extra.timeout_in_ms
    return options


USE_DEFAULT = object()


def steps_or_secs(steps, secs, defaults: tuple) -> tuple:
    """TF's rule for an every-N-steps / every-N-seconds pair: neither given takes `defaults`, one given
    leaves the other None (USE_DEFAULT marks "not given")."""
    if steps is USE_DEFAULT and secs is USE_DEFAULT:
        return defaults
    return (None if steps is USE_DEFAULT else steps), (None if secs is USE_DEFAULT else secs)


def MonitoredTrainingSession(master="", is_chief=True, checkpoint_dir=None, scaffold=None, hooks=None,  # noqa: N802
                             chief_only_hooks=None, save_checkpoint_secs=USE_DEFAULT,
                             save_summaries_steps=USE_DEFAULT, save_summaries_secs=USE_DEFAULT, config=None,
                             stop_grace_period_secs=120, log_step_count_steps=100, max_wait_secs=7200,
                             save_checkpoint_steps=USE_DEFAULT, summary_dir=None, save_graph_def=True):
    """A MonitoredSession for training, as TF builds it: restores from or initializes into `checkpoint_dir`, and
    adds a StepCounterHook and SummarySaverHook (writing to summary_dir, else checkpoint_dir) and a
    CheckpointSaverHook (every 600 s by default, or save_checkpoint_steps). The global step must exist."""
    save_summaries_steps, save_summaries_secs = steps_or_secs(save_summaries_steps, save_summaries_secs, (100, None))
    save_checkpoint_steps, save_checkpoint_secs = steps_or_secs(save_checkpoint_steps, save_checkpoint_secs,
                                                                (None, 600))
    scaffold = scaffold or Scaffold()
    all_hooks = []
    if is_chief and chief_only_hooks:
        all_hooks.extend(chief_only_hooks)
    if hooks:
        all_hooks.extend(hooks)
    if not is_chief:
        raise errors.unimplemented("MonitoredTrainingSession(is_chief=False): xlite has no distributed workers")
    creator = ChiefSessionCreator(scaffold=scaffold, checkpoint_dir=checkpoint_dir, master=master, config=config)
    summary_dir = summary_dir or checkpoint_dir
    if summary_dir:
        if log_step_count_steps and log_step_count_steps > 0:
            all_hooks.append(StepCounterHook(output_dir=summary_dir, every_n_steps=log_step_count_steps))
        if (save_summaries_steps and save_summaries_steps > 0) or (save_summaries_secs and save_summaries_secs > 0):
            all_hooks.append(SummarySaverHook(scaffold=scaffold, save_steps=save_summaries_steps,
                                              save_secs=save_summaries_secs, output_dir=summary_dir))
    if checkpoint_dir:
        if (save_checkpoint_secs and save_checkpoint_secs > 0) or (save_checkpoint_steps and save_checkpoint_steps > 0):
            all_hooks.append(CheckpointSaverHook(checkpoint_dir, save_steps=save_checkpoint_steps,
                                                 save_secs=save_checkpoint_secs, scaffold=scaffold,
                                                 save_graph_def=save_graph_def))
    return MonitoredSession(session_creator=creator, hooks=all_hooks, stop_grace_period_secs=stop_grace_period_secs)
