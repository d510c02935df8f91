//! A shape mismatch panics at the caller's line, naming the op and both
//! shapes: `#[track_caller]` runs along the whole public op path (a panic
//! raised inside a closure would report a line of this crate instead).

use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;

use strata_tensor::Tensor;

static SEEN: Mutex<Vec<(std::thread::ThreadId, String, u32, String)>> = Mutex::new(Vec::new());

/// Runs `f`, which must panic; returns the panic's file, line and message.
pub fn panic_site(f: impl FnOnce()) -> (String, u32, String) {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if let Some(loc) = info.location() {
                let msg = info
                    .payload()
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let id = std::thread::current().id();
                SEEN.lock().unwrap().push((id, loc.file().to_string(), loc.line(), msg));
            }
            previous(info);
        }));
    });
    assert!(panic::catch_unwind(AssertUnwindSafe(f)).is_err(), "expected a panic");
    let id = std::thread::current().id();
    let seen = SEEN.lock().unwrap();
    let (_, file, line, msg) = seen.iter().rev().find(|s| s.0 == id).expect("the hook saw it").clone();
    (file, line, msg)
}

#[test]
fn shape_panics_point_at_the_callers_line() {
    let (a, b) = (Tensor::<f32>::zeros([4, 3]), Tensor::<f32>::zeros([4, 2]));
    let (file, line, msg) = panic_site(|| {
        let _ = a.matmul(&b);
    });
    assert_eq!((file.as_str(), line), (file!(), line!() - 2), "{msg}");
    assert_eq!(msg, "matmul: [4, 3] x [4, 2]: inner dimensions 3 and 4 differ");

    let (file, line, msg) = panic_site(|| {
        let _ = a.add(&b);
    });
    assert_eq!((file.as_str(), line), (file!(), line!() - 2), "{msg}");
    assert!(msg.contains("add: shapes [4, 3] and [4, 2]"), "{msg}");

    let w = Tensor::<f32>::zeros([5, 2]);
    let (file, line, msg) = panic_site(|| {
        let _ = a.linear(&w, None);
    });
    assert_eq!((file.as_str(), line), (file!(), line!() - 2), "{msg}");
    assert!(msg.starts_with("linear"), "{msg}");

    let (file, line, _) = panic_site(|| {
        let _ = a.reshape([5]);
    });
    assert_eq!((file.as_str(), line), (file!(), line!() - 2));
}
