//! Checkpoints as safetensors files with PyTorch state-dict names.
//!
//! The format is the one `safetensors.torch.save_file` writes: little-endian
//! F32/F64 tensors keyed by name, so `safetensors.numpy.load_file` or
//! `model.load_state_dict(load_file(..))` in PyTorch read our files and we
//! read theirs. Optimizer state, when saved, sits under `optimizer.` with the
//! algorithm named in the metadata; loading a model ignores it.
//!
//! Buffers ([`Module::visit_buffers`]: batch norm's running statistics) are
//! saved beside the parameters under their state-dict names, the counts as
//! 0-d `I64` tensors, as PyTorch saves them.
//!
//! The metadata records the model's [`Module::architecture`] under
//! `strata.architecture` (layer kinds, sizes, activations); loading into a
//! model of another architecture is an [`Error::ArchitectureMismatch`]
//! naming both, and [`Mlp::from_checkpoint`](crate::Mlp::from_checkpoint)
//! builds the model from the file alone. The bytes depend only on the model
//! and the optimizer state: the same state saves to the same file.
//!
//! Saving writes a temporary file in the same directory, flushes it to disk
//! and renames it over the target, so a crash leaves the old checkpoint or
//! the new one, never half of one. Loading checks every name, shape and
//! dtype before it changes anything.
//!
//! ```
//! use rand::{rngs::StdRng, SeedableRng};
//! use strata_autograd::Activation;
//! use strata_nn::{checkpoint, Mlp, Module};
//!
//! let dir = std::env::temp_dir().join(format!("strata-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("model.safetensors");
//! let model = Mlp::new(&[4, 8, 2], Activation::Relu, &mut StdRng::seed_from_u64(1));
//! checkpoint::save(&path, &model).unwrap();
//!
//! let mut other = Mlp::new(&[4, 8, 2], Activation::Relu, &mut StdRng::seed_from_u64(2));
//! checkpoint::load(&path, &mut other).unwrap();
//! assert_eq!(other.layers[0].linear.weight.value().to_vec(), model.layers[0].linear.weight.value().to_vec());
//!
//! let mut wrong = Mlp::new(&[4, 9, 2], Activation::Relu, &mut StdRng::seed_from_u64(2));
//! let err = checkpoint::load(&path, &mut wrong).unwrap_err();
//! assert!(err.to_string().contains("layers.0.weight"));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use safetensors::tensor::Dtype;
use safetensors::SafeTensors;
use strata_tensor::{Float, Tensor};

use crate::buffer::Buffer;
use crate::error::Error;
use crate::module::Module;
use crate::optim::Optimizer;

const OPTIMIZER_PREFIX: &str = "optimizer.";

/// The metadata key that records [`Module::architecture`].
pub const ARCHITECTURE_KEY: &str = "strata.architecture";

/// A tensor ready to write: its dtype's name, dims and little-endian bytes.
type Encoded = (&'static str, Vec<usize>, Vec<u8>);

/// Named tensors, as optimizer state comes.
type Named<T> = [(String, Tensor<T>)];

/// Saves `model`'s parameters.
///
/// # Errors
/// [`Error::Io`] if the file cannot be written.
pub fn save<T: Float, M: Module<T> + ?Sized>(path: impl AsRef<Path>, model: &M) -> Result<(), Error> {
    write_atomic(path.as_ref(), &encode(model, None)?)
}

/// Saves `model`'s parameters and `opt`'s state (to resume training).
///
/// # Errors
/// [`Error::Io`] if the file cannot be written.
pub fn save_with_optimizer<T: Float, M: Module<T>>(
    path: impl AsRef<Path>,
    model: &M,
    opt: &dyn Optimizer<T>,
) -> Result<(), Error> {
    write_atomic(path.as_ref(), &to_bytes(model, Some(opt))?)
}

/// Loads parameters saved by [`save`] (or by PyTorch) into `model`.
///
/// # Errors
/// [`Error::Io`] for an unreadable file; [`Error::Checkpoint`] for one that
/// is not safetensors (truncated, corrupt); [`Error::MissingTensor`],
/// [`Error::UnexpectedTensor`], [`Error::ShapeMismatch`] or
/// [`Error::DtypeMismatch`] naming the first tensor that does not fit;
/// [`Error::ArchitectureMismatch`] if every tensor fits but the file was
/// saved from another architecture (another activation, say). The model is
/// unchanged on error.
pub fn load<T: Float, M: Module<T> + ?Sized>(path: impl AsRef<Path>, model: &mut M) -> Result<(), Error> {
    load_with_limits(path, model, Limits::default())
}

/// [`load`] with other bounds on the file's header than [`Limits::default`]
/// (a model with more than 65,536 tensors, say).
///
/// # Errors
/// As [`load`].
pub fn load_with_limits<T: Float, M: Module<T> + ?Sized>(
    path: impl AsRef<Path>,
    model: &mut M,
    limits: Limits,
) -> Result<(), Error> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    load_bytes_within(&bytes, &path.display().to_string(), model, limits)
}

/// [`load`] from bytes in memory (what [`to_bytes`] gives), named
/// `<bytes>` in errors.
///
/// # Errors
/// As [`load`], but for I/O.
pub fn load_from_bytes<T: Float, M: Module<T> + ?Sized>(bytes: &[u8], model: &mut M) -> Result<(), Error> {
    load_bytes_within(bytes, "<bytes>", model, Limits::default())
}

fn load_bytes_within<T: Float, M: Module<T> + ?Sized>(
    bytes: &[u8],
    file: &str,
    model: &mut M,
    limits: Limits,
) -> Result<(), Error> {
    let tensors = read_tensors_within::<T>(bytes, file, limits)?;
    // Names, shapes and values first: a mismatch there names the exact tensor.
    check(model, &tensors)?;
    check_architecture(bytes, file, model, limits)?;
    apply(model, &tensors);
    Ok(())
}

/// [`load`] that also restores `opt`'s state.
///
/// # Errors
/// As [`load`], and [`Error::Checkpoint`] if the file holds no state for this
/// optimizer's algorithm.
pub fn load_with_optimizer<T: Float, M: Module<T>>(
    path: impl AsRef<Path>,
    model: &mut M,
    opt: &mut dyn Optimizer<T>,
) -> Result<(), Error> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let meta = metadata(&bytes, &file, Limits::default())?;
    let saved = meta.metadata().as_ref().and_then(|m| m.get("optimizer").cloned());
    if saved.as_deref() != Some(opt.name()) {
        return Err(Error::Checkpoint {
            file,
            reason: format!("holds optimizer state {saved:?}, not {:?}", opt.name()),
        });
    }
    let tensors = read_tensors::<T>(&bytes, &file)?;
    let state: Vec<(String, Tensor<T>)> = tensors
        .floats
        .iter()
        .filter_map(|(n, t)| n.strip_prefix(OPTIMIZER_PREFIX).map(|s| (s.to_string(), t.clone())))
        .collect();
    // Check both before changing either.
    check(model, &tensors)?;
    check_architecture(&bytes, &file, model, Limits::default())?;
    opt.load_state_tensors(model, &state)?;
    apply(model, &tensors);
    Ok(())
}

/// The checkpoint as bytes (what [`save`] or, with `opt`,
/// [`save_with_optimizer`] writes).
///
/// # Errors
/// [`Error::Checkpoint`] if serialisation fails (it does not for valid models).
pub fn to_bytes<T: Float, M: Module<T>>(model: &M, opt: Option<&dyn Optimizer<T>>) -> Result<Vec<u8>, Error> {
    match opt {
        Some(opt) => encode(model, Some((opt, &opt.state_tensors(model)))),
        None => encode(model, None),
    }
}

/// The parameters, and an optimizer with its state, as safetensors bytes.
///
/// The header is written here rather than by `safetensors::serialize`, which
/// takes the metadata as a `HashMap` and so writes its keys in a different
/// order in each process: the same model and state must give the same bytes.
/// Tensors are laid out in name order (what `serialize` does for one dtype)
/// and the metadata keys sorted. `SafeTensors::deserialize` and PyTorch's
/// `safetensors.torch.load_file` read the result.
fn encode<T: Float, M: Module<T> + ?Sized>(
    model: &M,
    opt: Option<(&dyn Optimizer<T>, &Named<T>)>,
) -> Result<Vec<u8>, Error> {
    let float = if std::mem::size_of::<T>() == 4 { "F32" } else { "F64" };
    let mut named: BTreeMap<String, Encoded> = BTreeMap::new();
    let mut push = |name: String, b: &Buffer<T>| match b {
        Buffer::Float(t) => named.insert(name, (float, t.dims().to_vec(), le_bytes(t))),
        Buffer::Count(c) => named.insert(name, ("I64", Vec::new(), c.to_le_bytes().to_vec())),
    };
    model.visit_params(&mut |name, p| {
        push(name.to_string(), &Buffer::Float(p.value().clone()));
    });
    model.visit_buffers(&mut |name, b| {
        push(name.to_string(), b);
    });
    let mut meta = BTreeMap::from([
        ("format".to_string(), "pt".to_string()),
        (ARCHITECTURE_KEY.to_string(), model.architecture()),
    ]);
    if let Some((opt, state)) = opt {
        for (n, t) in state {
            push(format!("{OPTIMIZER_PREFIX}{n}"), &Buffer::Float(t.clone()));
        }
        meta.insert("optimizer".into(), opt.name().into());
        meta.insert("lr".into(), opt.lr().to_string());
    }
    // Wider dtypes first, then by name (what `safetensors::serialize` does):
    // every tensor's data then starts aligned to its element size.
    let mut order: Vec<(&String, &Encoded)> = named.iter().collect();
    order.sort_by_key(|(name, (dtype, ..))| (std::cmp::Reverse(dtype_width(dtype)), *name));
    let mut header = String::from("{\"__metadata__\":{");
    for (i, (k, v)) in meta.iter().enumerate() {
        let comma = if i == 0 { "" } else { "," };
        header.push_str(&format!("{comma}{}:{}", json_string(k), json_string(v)));
    }
    header.push('}');
    let mut offset = 0usize;
    for &(name, (dtype, dims, bytes)) in &order {
        let shape: Vec<String> = dims.iter().map(ToString::to_string).collect();
        let end = offset + bytes.len();
        header.push_str(&format!(
            ",{}:{{\"dtype\":\"{dtype}\",\"shape\":[{}],\"data_offsets\":[{offset},{end}]}}",
            json_string(name),
            shape.join(",")
        ));
        offset = end;
    }
    header.push('}');
    // The data starts 8-byte aligned: the header is padded with spaces.
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for (_, (_, _, bytes)) in &order {
        out.extend_from_slice(bytes);
    }
    Ok(out)
}

fn dtype_width(dtype: &str) -> usize {
    if dtype == "F32" {
        4
    } else {
        8
    }
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The architecture a checkpoint was saved from ([`Module::architecture`]),
/// or `None` for a file that does not record one (written by PyTorch, say).
///
/// # Errors
/// [`Error::Io`] for an unreadable file, [`Error::Checkpoint`] for one that
/// is not safetensors.
pub fn architecture(path: impl AsRef<Path>) -> Result<Option<String>, Error> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let meta = metadata(&bytes, &path.display().to_string(), Limits::default())?;
    Ok(meta.metadata().as_ref().and_then(|m| m.get(ARCHITECTURE_KEY).cloned()))
}

/// Fails if the file records an architecture and it is not `model`'s.
fn check_architecture<T: Float, M: Module<T> + ?Sized>(
    bytes: &[u8],
    file: &str,
    model: &M,
    limits: Limits,
) -> Result<(), Error> {
    let meta = metadata(bytes, file, limits)?;
    match meta.metadata().as_ref().and_then(|m| m.get(ARCHITECTURE_KEY)) {
        Some(saved) if *saved != model.architecture() => Err(Error::ArchitectureMismatch {
            file: file.to_string(),
            saved: saved.clone(),
            model: model.architecture(),
        }),
        _ => Ok(()),
    }
}

/// What a checkpoint file may ask of a reader before its header is parsed.
/// safetensors' own header limit (100 MB) is far above what a model's state
/// dict needs, and parsing a header of that size costs seconds and hundreds
/// of megabytes; these bounds reject such a file in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest header, in bytes (default 8 MiB: about 80,000 tensors with
    /// long names).
    pub max_header_bytes: usize,
    /// Most tensors (default 65,536).
    pub max_tensors: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_header_bytes: 8 << 20, max_tensors: 1 << 16 }
    }
}

/// Checks the header's declared length and tensor count against `limits`
/// before anything parses it.
fn check_limits(bytes: &[u8], file: &str, limits: Limits) -> Result<(), Error> {
    let bad = |reason: String| Err(Error::Checkpoint { file: file.to_string(), reason });
    let Some(len) = bytes.get(..8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes"))) else {
        return bad(format!("not a readable safetensors file ({} bytes: too short for a header)", bytes.len()));
    };
    if len > (bytes.len() - 8) as u64 {
        return bad(format!(
            "not a readable safetensors file (its header of {len} bytes runs past the end of the {}-byte file)",
            bytes.len()
        ));
    }
    if len > limits.max_header_bytes as u64 {
        return bad(format!(
            "header of {len} bytes is over the limit of {} (Limits::max_header_bytes)",
            limits.max_header_bytes
        ));
    }
    let end = usize::try_from(len).map_or(bytes.len(), |l| l.saturating_add(8).min(bytes.len()));
    let header = &bytes[8..end];
    const KEY: &[u8] = b"\"dtype\"";
    let tensors = header.windows(KEY.len()).filter(|w| *w == KEY).count();
    if tensors > limits.max_tensors {
        return bad(format!("{tensors} tensors is over the limit of {} (Limits::max_tensors)", limits.max_tensors));
    }
    Ok(())
}

/// The header of a safetensors buffer, within `limits`.
fn metadata(bytes: &[u8], file: &str, limits: Limits) -> Result<safetensors::tensor::Metadata, Error> {
    check_limits(bytes, file, limits)?;
    SafeTensors::read_metadata(bytes).map(|(_, m)| m).map_err(|e| corrupt(file, &e))
}

/// Reads every tensor of a safetensors buffer as `T` (checking the dtype).
fn read_tensors<T: Float>(bytes: &[u8], file: &str) -> Result<Stored<T>, Error> {
    read_tensors_within(bytes, file, Limits::default())
}

/// A checkpoint's tensors: floats in the model's type, and 0-d `I64`
/// counts (`num_batches_tracked`).
struct Stored<T: Float> {
    floats: BTreeMap<String, Tensor<T>>,
    counts: BTreeMap<String, i64>,
}

fn read_tensors_within<T: Float>(bytes: &[u8], file: &str, limits: Limits) -> Result<Stored<T>, Error> {
    check_limits(bytes, file, limits)?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| corrupt(file, &e))?;
    let want = dtype_of::<T>();
    let mut out = BTreeMap::new();
    let mut counts = BTreeMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() == Dtype::I64 && view.shape().iter().product::<usize>() == 1 {
            let c = i64::from_le_bytes(view.data().try_into().expect("one 8-byte element"));
            counts.insert(name, c);
            continue;
        }
        if view.dtype() != want {
            return Err(Error::DtypeMismatch {
                name,
                expected: format!("{want:?}"),
                found: format!("{:?}", view.dtype()),
            });
        }
        let width = std::mem::size_of::<T>();
        let data: Vec<T> = view
            .data()
            .chunks_exact(width)
            .map(|c| {
                if width == 4 {
                    T::of(f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))))
                } else {
                    T::of(f64::from_le_bytes(c.try_into().expect("8 bytes")))
                }
            })
            .collect();
        let t = Tensor::from_vec(data, view.shape().to_vec())
            .map_err(|e| Error::Checkpoint { file: file.to_string(), reason: format!("tensor `{name}`: {e}") })?;
        out.insert(name, t);
    }
    Ok(Stored { floats: out, counts })
}

/// Checks that `stored` holds every parameter and buffer of `model` with
/// its shape and kind and nothing else (optimizer state aside), naming the
/// first that does not fit.
fn check<T: Float, M: Module<T> + ?Sized>(model: &M, stored: &Stored<T>) -> Result<(), Error> {
    let tensors = &stored.floats;
    let mut err = None;
    let mut names = std::collections::HashSet::new();
    let mut check_float = |name: &str, value: &Tensor<T>, what: &str, err: &mut Option<Error>| {
        names.insert(name.to_string());
        if err.is_some() {
            return;
        }
        match tensors.get(name) {
            None if stored.counts.contains_key(name) => {
                *err = Some(Error::DtypeMismatch {
                    name: name.to_string(),
                    expected: format!("{:?}", dtype_of::<T>()),
                    found: "I64".into(),
                });
            }
            None => *err = Some(Error::MissingTensor { name: name.to_string() }),
            Some(t) if t.dims() != value.dims() => {
                *err = Some(Error::ShapeMismatch {
                    name: name.to_string(),
                    expected: value.dims().to_vec(),
                    found: t.dims().to_vec(),
                });
            }
            Some(t) => {
                if let Some(i) = t.contiguous_data().iter().position(|v| !v.is_finite()) {
                    let v = t.contiguous_data()[i].as_f64();
                    *err = Some(Error::InvalidTensor {
                        name: name.to_string(),
                        reason: format!("element {i} is {v}: {what} must be finite"),
                    });
                }
            }
        }
    };
    model.visit_params(&mut |name, p| check_float(name, p.value(), "a weight", &mut err));
    let mut count_names = std::collections::HashSet::new();
    model.visit_buffers(&mut |name, b| match b {
        Buffer::Float(t) => check_float(name, t, "a running statistic", &mut err),
        Buffer::Count(_) => {
            count_names.insert(name.to_string());
            if err.is_none() && !stored.counts.contains_key(name) {
                err = Some(match tensors.get(name) {
                    Some(_) => Error::DtypeMismatch {
                        name: name.to_string(),
                        expected: "I64".into(),
                        found: format!("{:?}", dtype_of::<T>()),
                    },
                    None => Error::MissingTensor { name: name.to_string() },
                });
            }
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    let extra_float = tensors.keys().find(|n| !n.starts_with(OPTIMIZER_PREFIX) && !names.contains(n.as_str()));
    match extra_float.or_else(|| stored.counts.keys().find(|n| !count_names.contains(n.as_str()))) {
        Some(extra) => Err(Error::UnexpectedTensor { name: extra.clone() }),
        None => Ok(()),
    }
}

/// Copies checked tensors into the parameters and buffers.
fn apply<T: Float, M: Module<T> + ?Sized>(model: &mut M, stored: &Stored<T>) {
    model.visit_params_mut(&mut |name, p| p.set(stored.floats[name].clone()));
    model.visit_buffers_mut(&mut |name, b| match b {
        Buffer::Float(t) => *t = stored.floats[name].clone(),
        Buffer::Count(c) => *c = stored.counts[name],
    });
}

fn dtype_of<T: Float>() -> Dtype {
    if std::mem::size_of::<T>() == 4 {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

fn le_bytes<T: Float>(t: &Tensor<T>) -> Vec<u8> {
    let data = t.contiguous_data();
    let mut out = Vec::with_capacity(data.len() * std::mem::size_of::<T>());
    for &x in data.iter() {
        if std::mem::size_of::<T>() == 4 {
            out.extend_from_slice(&(x.as_f64() as f32).to_le_bytes());
        } else {
            out.extend_from_slice(&x.as_f64().to_le_bytes());
        }
    }
    out
}

fn corrupt(file: &str, e: &safetensors::SafeTensorError) -> Error {
    Error::Checkpoint { file: file.to_string(), reason: format!("not a readable safetensors file ({e})") }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it, and renames it into place.
///
/// The temporary file has one fixed name per target (`.NAME.strata-tmp`),
/// so a crash leaves at most one behind and the next save reuses it; saves
/// of one target from several processes take turns on an exclusive lock of
/// `.NAME.strata-lock` (a file that is never renamed, so the lock is always
/// on the same file). Temporary files of the older scheme (`.NAME.tmp-PID`)
/// are removed.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| Error::Checkpoint {
        file: path.display().to_string(),
        reason: "path has no file name".into(),
    })?;
    let name = name.to_string_lossy();
    let tmp = dir.join(format!(".{name}.strata-tmp"));
    let lock_path = dir.join(format!(".{name}.strata-lock"));
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io(&lock_path, e))?;
    lock.lock().map_err(|e| Error::io(&lock_path, e))?;
    remove_stale_temp_files(dir, &name);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    // Unlocked when `lock` is dropped, after the rename.
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Removes `.NAME.tmp-PID` files that crashed saves of the older scheme left.
fn remove_stale_temp_files(dir: &Path, name: &str) {
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        if file.strip_prefix(&prefix).is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
