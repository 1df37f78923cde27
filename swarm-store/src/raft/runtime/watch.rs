//! openraft's watch channel for the store's runtime: [`crate::fifo_watch`], whose waiters wake
//! in registration order.

use crate::fifo_watch::{Receiver, Ref, SendError, Sender, channel};
use openraft::OptionalSend;
use openraft::OptionalSync;
use openraft::async_runtime::watch as rt;

/// The watch channel of [`StoreRuntime`](super::StoreRuntime), for openraft.
pub(crate) struct FifoWatch;

impl rt::Watch for FifoWatch {
    type Sender<T: OptionalSend + OptionalSync> = Sender<T>;
    type Receiver<T: OptionalSend + OptionalSync> = Receiver<T>;
    type Ref<'a, T: OptionalSend + 'a> = Ref<'a, T>;

    fn channel<T: OptionalSend + OptionalSync>(init: T) -> (Sender<T>, Receiver<T>) {
        channel(init)
    }
}

impl<T: OptionalSend + OptionalSync> rt::WatchSender<FifoWatch, T> for Sender<T> {
    fn send(&self, value: T) -> Result<(), rt::SendError<T>> {
        Sender::send(self, value).map_err(|SendError(v)| rt::SendError(v))
    }

    fn send_if_modified<F>(&self, modify: F) -> bool
    where
        F: FnOnce(&mut T) -> bool,
    {
        Sender::send_if_modified(self, modify)
    }

    fn borrow_watched(&self) -> Ref<'_, T> {
        self.borrow()
    }

    fn subscribe(&self) -> Receiver<T> {
        Sender::subscribe(self)
    }
}

impl<T: OptionalSend + OptionalSync> rt::WatchReceiver<FifoWatch, T> for Receiver<T> {
    async fn changed(&mut self) -> Result<(), rt::RecvError> {
        Receiver::changed(self).await.map_err(|_| rt::RecvError(()))
    }

    fn borrow_watched(&self) -> Ref<'_, T> {
        self.borrow()
    }

    fn borrow_and_update(&mut self) -> Ref<'_, T> {
        Receiver::borrow_and_update(self)
    }
}
