//! [`LiveEngine`]: the engine the server answers from, which `serve --watch` replaces when the
//! specs change ([`crate::watch`]), and the problem of the last reload that failed.
//!
//! A request reads the current engine once, without a lock (`arc-swap`), and is answered by that
//! engine to the end even if another is swapped in meanwhile.

use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption, Guard};
use understudy_engine::{Engine, LoadReport};

/// The engine being served, replaced whole by a reload.
#[derive(Debug)]
pub struct LiveEngine {
    engine: ArcSwap<Engine>,
    reload_error: ArcSwapOption<LoadReport>,
}

impl LiveEngine {
    /// Serves `engine` until it is replaced.
    pub fn new(engine: Arc<Engine>) -> LiveEngine {
        LiveEngine {
            engine: ArcSwap::new(engine),
            reload_error: ArcSwapOption::empty(),
        }
    }

    /// The current engine, for one request: cheap, lock-free, and kept by the caller for as long
    /// as it holds the guard (not across an `.await` that may wait long).
    pub fn load(&self) -> Guard<Arc<Engine>> {
        self.engine.load()
    }

    /// The current engine, to keep.
    pub fn current(&self) -> Arc<Engine> {
        self.engine.load_full()
    }

    /// Serves `engine` from the next request on, and forgets the problem of a failed reload.
    /// Gives back the engine it replaces, for the caller to drop where freeing it holds up no
    /// request (unless a request under way holds it last).
    pub fn replace(&self, engine: Arc<Engine>) -> Arc<Engine> {
        let previous = self.engine.swap(engine);
        self.reload_error.store(None);
        previous
    }

    /// Records why the specs as they are now cannot be served; the current engine stays.
    pub fn reload_failed(&self, report: LoadReport) {
        self.reload_error.store(Some(Arc::new(report)));
    }

    /// Why the last reload failed, while no later one has succeeded.
    pub fn reload_error(&self) -> Option<Arc<LoadReport>> {
        self.reload_error.load_full()
    }
}

#[cfg(test)]
mod tests {
    use understudy_engine::EngineOptions;

    use super::*;

    fn empty_engine() -> Arc<Engine> {
        Arc::new(Engine::from_specs(Vec::new(), EngineOptions::default()).unwrap())
    }

    #[test]
    fn a_request_keeps_the_engine_it_started_with_and_the_next_gets_the_new_one() {
        let (old, new) = (empty_engine(), empty_engine());
        let live = LiveEngine::new(Arc::clone(&old));
        let in_flight = live.load();
        live.reload_failed(LoadReport::default());
        assert!(live.reload_error().is_some());
        let previous = live.replace(Arc::clone(&new));
        assert!(Arc::ptr_eq(&previous, &old));
        assert!(Arc::ptr_eq(&in_flight, &old));
        assert!(Arc::ptr_eq(&live.load(), &new));
        assert!(live.reload_error().is_none());
    }
}
