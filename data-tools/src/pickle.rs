//! A streaming decoder for exactly the pickles numpy writes for 1-D object arrays of lists of
//! ints (what `imdb.npz` holds in `x_train` / `x_test`), pushing the ints straight into one
//! flat buffer.
//!
//! The stream rebuilds the array as
//! `numpy._core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')`, then `BUILD`s it with the
//! state `(1, (n,), numpy.dtype('O8', False, True), False, [list, list, ...])`, where each list
//! is built by `EMPTY_LIST` and `MARK int int ... APPENDS` runs (the pickler batches 1000
//! items per run; a one-item list uses `APPEND`).
//!
//! # What is accepted
//! Protocols 2 to 5 (the stream must start with `PROTO`). Opcodes:
//! `PROTO FRAME STOP MARK EMPTY_LIST APPEND APPENDS LIST EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3
//! NONE NEWTRUE NEWFALSE BININT BININT1 BININT2 LONG1 SHORT_BINUNICODE BINUNICODE BINUNICODE8
//! SHORT_BINBYTES BINBYTES BINBYTES8 SHORT_BINSTRING BINSTRING GLOBAL STACK_GLOBAL REDUCE BUILD
//! BINPUT LONG_BINPUT MEMOIZE BINGET LONG_BINGET`.
//! Globals: `numpy.core.multiarray._reconstruct`, `numpy._core.multiarray._reconstruct`,
//! `numpy.ndarray`, `numpy.dtype`, and `_codecs.encode` (protocol 2 spells `bytes` with it).
//! Every other opcode or global is refused with an error naming it and its byte offset; nothing
//! is ever executed. Ints must fit in an `i32`.
//!
//! Memory is bounded by the input: each opcode pushes at most one value, and no length read
//! from the stream is allocated before it is checked against the bytes that remain.

use std::collections::HashMap;

/// The rows of a ragged array of ints: row `i` is `values[offsets[i]..offsets[i + 1]]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaggedInts {
    pub values: Vec<i32>,
    /// `rows + 1` offsets into `values`, starting at 0.
    pub offsets: Vec<usize>,
}

impl RaggedInts {
    pub fn rows(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn row(&self, i: usize) -> &[i32] {
        &self.values[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Builds from nested rows (tests and small data).
    pub fn from_rows<R: AsRef<[i32]>>(rows: &[R]) -> RaggedInts {
        let mut out = RaggedInts {
            values: Vec::new(),
            offsets: vec![0],
        };
        for r in rows {
            out.values.extend_from_slice(r.as_ref());
            out.offsets.push(out.values.len());
        }
        out
    }
}

/// What is wrong with a pickle stream, and where.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("pickle byte {offset}: {problem}")]
pub struct PickleError {
    pub offset: usize,
    pub problem: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Global {
    Reconstruct,
    Ndarray,
    Dtype,
    CodecsEncode,
}

#[derive(Clone, Debug, PartialEq)]
enum Value {
    None,
    Bool(bool),
    Int(i64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Value>),
    List(usize),
    Global(Global),
    Dtype(String),
    Array(Box<ArrayState>),
}

impl Value {
    fn type_name(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Global(_) => "global",
            Value::Dtype(_) => "dtype",
            Value::Array(_) => "ndarray",
        }
    }

    /// Text of a `str`, or of a Python 2 byte string (latin-1).
    fn text(&self) -> Option<String> {
        match self {
            Value::Str(s) => Some(s.clone()),
            Value::Bytes(b) => Some(b.iter().map(|&c| char::from(c)).collect()),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
struct ArrayState {
    shape: Option<Vec<i64>>,
    dtype: Option<String>,
    data: Option<usize>,
}

/// A list under construction. Lists of ints live in the shared flat buffer; a list's ints
/// must be contiguous there, which holds for every stream a pickler writes (it finishes one
/// list before starting the next).
#[derive(Clone, Debug)]
enum List {
    Empty,
    Ints { start: usize, len: usize },
    Objects(Vec<Value>),
}

struct Decoder<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Offset of the opcode being executed (for messages).
    at: usize,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u32, Value>,
    lists: Vec<List>,
    ints: Vec<i32>,
}

/// Decodes a pickled 1-D numpy object array whose elements are lists of ints.
pub fn decode_object_array(bytes: &[u8]) -> Result<RaggedInts, PickleError> {
    let mut d = Decoder {
        bytes,
        pos: 0,
        at: 0,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        lists: Vec::new(),
        // Roughly two bytes of stream per int (BININT1 + value) in real files.
        ints: Vec::with_capacity(bytes.len() / 2),
    };
    let result = d.run()?;
    d.finish(result)
}

impl Decoder<'_> {
    fn fail<T>(&self, problem: impl Into<String>) -> Result<T, PickleError> {
        Err(PickleError {
            offset: self.at,
            problem: problem.into(),
        })
    }

    fn take(&mut self, n: usize) -> Result<&[u8], PickleError> {
        match self.bytes.get(self.pos..self.pos.saturating_add(n)) {
            Some(s) if self.pos.checked_add(n).is_some() => {
                self.pos += n;
                Ok(s)
            }
            _ => Err(PickleError {
                offset: self.at,
                problem: format!(
                    "truncated: needs {n} more bytes, {} remain",
                    self.bytes.len() - self.pos
                ),
            }),
        }
    }

    fn u8(&mut self) -> Result<u8, PickleError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, PickleError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, PickleError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, PickleError> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    fn len_u64(&mut self) -> Result<usize, PickleError> {
        let n = self.u64()?;
        usize::try_from(n).or_else(|_| self.fail(format!("length {n} does not fit in memory")))
    }

    fn pop(&mut self) -> Result<Value, PickleError> {
        match self.stack.pop() {
            Some(v) if self.marks.last().is_none_or(|&m| self.stack.len() >= m) => Ok(v),
            _ => self.fail("stack underflow"),
        }
    }

    fn top(&mut self) -> Result<&mut Value, PickleError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return self.fail("stack underflow");
        }
        Ok(self.stack.last_mut().expect("non-empty"))
    }

    fn pop_mark(&mut self) -> Result<Vec<Value>, PickleError> {
        let Some(mark) = self.marks.pop() else {
            return self.fail("no MARK on the stack");
        };
        Ok(self.stack.split_off(mark))
    }

    fn text(&mut self, n: usize) -> Result<Value, PickleError> {
        let raw = self.take(n)?;
        match std::str::from_utf8(raw) {
            Ok(s) => Ok(Value::Str(s.to_owned())),
            Err(_) => self.fail("string is not UTF-8"),
        }
    }

    fn int_value(&self, v: i64) -> Result<i32, PickleError> {
        i32::try_from(v).or_else(|_| self.fail(format!("int {v} does not fit in 32 bits")))
    }

    fn memo_get(&self, key: u32) -> Result<Value, PickleError> {
        match self.memo.get(&key) {
            Some(v) => Ok(v.clone()),
            None => self.fail(format!("memo key {key} was never stored")),
        }
    }

    fn memo_put(&mut self, key: u32) -> Result<(), PickleError> {
        let v = self.top()?.clone();
        self.memo.insert(key, v);
        Ok(())
    }

    fn global(&self, module: &str, name: &str) -> Result<Value, PickleError> {
        let g = match (module, name) {
            ("numpy.core.multiarray" | "numpy._core.multiarray", "_reconstruct") => {
                Global::Reconstruct
            }
            ("numpy", "ndarray") => Global::Ndarray,
            ("numpy", "dtype") => Global::Dtype,
            ("_codecs", "encode") => Global::CodecsEncode,
            _ => {
                return self.fail(format!(
                    "global {module}.{name} is not allowed (only numpy array reconstruction is)"
                ));
            }
        };
        Ok(Value::Global(g))
    }

    /// Appends `items` to list `id`.
    fn extend_list(&mut self, id: usize, items: Vec<Value>) -> Result<(), PickleError> {
        if items.is_empty() {
            return Ok(());
        }
        let all_ints = items.iter().all(|v| matches!(v, Value::Int(_)));
        let any_ints = items.iter().any(|v| matches!(v, Value::Int(_)));
        match (&self.lists[id], all_ints, any_ints) {
            (List::Empty | List::Ints { .. }, true, _) => {
                let start = self.ints.len();
                for v in &items {
                    let Value::Int(i) = *v else {
                        unreachable!("all ints")
                    };
                    let i = self.int_value(i)?;
                    self.ints.push(i);
                }
                self.grow_int_list(id, start, items.len())
            }
            (List::Empty, false, false) => {
                self.lists[id] = List::Objects(items);
                Ok(())
            }
            (List::Objects(_), false, false) => {
                let List::Objects(objs) = &mut self.lists[id] else {
                    unreachable!()
                };
                objs.extend(items);
                Ok(())
            }
            _ => self.fail("a list mixes ints with other values (a ragged or wrong-typed array)"),
        }
    }

    /// Records that `n` ints just pushed at `start` of the flat buffer belong to list `id`.
    fn grow_int_list(&mut self, id: usize, start: usize, n: usize) -> Result<(), PickleError> {
        match &mut self.lists[id] {
            List::Empty => self.lists[id] = List::Ints { start, len: n },
            List::Ints { start: s, len } if *s + *len == start => *len += n,
            List::Ints { .. } => return self.fail("lists built interleaved are not supported"),
            List::Objects(_) => return self.fail("a list mixes ints with other values"),
        }
        Ok(())
    }

    /// The hot path: after `MARK` on top of a list, read a run of int opcodes straight into the
    /// flat buffer. Returns true if the run ended in `APPENDS` and was committed; otherwise the
    /// run is moved onto the stack as ordinary values and decoding continues generically.
    fn int_run(&mut self, id: usize) -> Result<bool, PickleError> {
        let start = self.ints.len();
        match self.lists[id] {
            List::Empty => {}
            List::Ints { start: s, len } if s + len == start => {}
            _ => return Ok(false),
        }
        let bytes = self.bytes;
        let mut pos = self.pos;
        loop {
            match bytes.get(pos) {
                Some(b'K') if pos + 1 < bytes.len() => {
                    self.ints.push(i32::from(bytes[pos + 1]));
                    pos += 2;
                }
                Some(b'M') if pos + 2 < bytes.len() => {
                    self.ints.push(i32::from(u16::from_le_bytes([
                        bytes[pos + 1],
                        bytes[pos + 2],
                    ])));
                    pos += 3;
                }
                Some(b'J') if pos + 4 < bytes.len() => {
                    let b = &bytes[pos + 1..pos + 5];
                    self.ints.push(i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                    pos += 5;
                }
                Some(b'e') => {
                    self.pos = pos + 1;
                    self.marks.pop();
                    let n = self.ints.len() - start;
                    self.grow_int_list(id, start, n)?;
                    return Ok(true);
                }
                _ => break,
            }
        }
        // Not a plain run: hand the ints back to the generic machine.
        self.pos = pos;
        let run: Vec<Value> = self
            .ints
            .drain(start..)
            .map(|i| Value::Int(i.into()))
            .collect();
        self.stack.extend(run);
        Ok(false)
    }

    fn run(&mut self) -> Result<Value, PickleError> {
        if self.bytes.first() != Some(&0x80) {
            return self.fail("not a pickle of protocol 2 or later (no PROTO opcode): protocols 0 and 1 are not read");
        }
        loop {
            self.at = self.pos;
            let op = self.u8()?;
            match op {
                b'.' => return self.stop(),
                0x80 | 0x95 => self.protocol_op(op)?,
                b'(' | b']' | b'a' | b'e' | b'l' | b')' | b't' | 0x85..=0x87 => {
                    self.container_op(op)?
                }
                b'N' | 0x88 | 0x89 | b'J' | b'K' | b'M' | 0x8a => self.scalar_op(op)?,
                0x8c | b'X' | 0x8d | b'C' | b'U' | b'B' | b'T' | 0x8e => self.data_op(op)?,
                b'c' | 0x93 | b'R' | b'b' => self.object_op(op)?,
                b'q' | b'r' | 0x94 | b'h' | b'j' => self.memo_op(op)?,
                _ => return self.unsupported(op),
            }
        }
    }

    /// STOP: the one value left is the result, and nothing may follow it.
    fn stop(&mut self) -> Result<Value, PickleError> {
        let v = self.pop()?;
        if !self.stack.is_empty() || !self.marks.is_empty() {
            return self.fail("values left on the stack at STOP");
        }
        if self.pos != self.bytes.len() {
            return self.fail(format!("{} bytes follow STOP", self.bytes.len() - self.pos));
        }
        Ok(v)
    }

    /// An opcode this decoder does not read (floats, dicts, persistent ids, …).
    fn unsupported<T>(&self, op: u8) -> Result<T, PickleError> {
        self.fail(format!("opcode {} is not supported here", opcode_name(op)))
    }

    /// PROTO (2 to 5, first byte only) and FRAME (a length hint, checked against the end).
    fn protocol_op(&mut self, op: u8) -> Result<(), PickleError> {
        match op {
            0x80 => {
                let proto = self.u8()?;
                if !(2..=5).contains(&proto) || self.at != 0 {
                    return self.fail(format!("pickle protocol {proto} (2 to 5 are read)"));
                }
            }
            // FRAME: a length hint for buffered readers; the opcodes simply follow.
            0x95 => {
                let n = self.len_u64()?;
                if n > self.bytes.len() - self.pos {
                    return self.fail(format!("frame of {n} bytes runs past the end"));
                }
            }
            _ => return self.unsupported(op),
        }
        Ok(())
    }

    /// MARK, lists (EMPTY_LIST, APPEND, APPENDS, LIST) and tuples; a MARK on a list takes the
    /// fast path for a run of ints.
    fn container_op(&mut self, op: u8) -> Result<(), PickleError> {
        match op {
            b'(' => {
                self.marks.push(self.stack.len());
                if let Some(&Value::List(id)) = self.stack.last() {
                    self.int_run(id)?;
                }
            }
            b']' => {
                self.lists.push(List::Empty);
                self.stack.push(Value::List(self.lists.len() - 1));
            }
            b'a' => {
                let v = self.pop()?;
                let Value::List(id) = *self.top()? else {
                    return self.fail("APPEND to something that is not a list");
                };
                self.extend_list(id, vec![v])?;
            }
            b'e' => {
                let items = self.pop_mark()?;
                let Value::List(id) = *self.top()? else {
                    return self.fail("APPENDS to something that is not a list");
                };
                self.extend_list(id, items)?;
            }
            b'l' => {
                let items = self.pop_mark()?;
                self.lists.push(List::Empty);
                let id = self.lists.len() - 1;
                self.extend_list(id, items)?;
                self.stack.push(Value::List(id));
            }
            b')' => self.stack.push(Value::Tuple(Vec::new())),
            b't' => {
                let items = self.pop_mark()?;
                self.stack.push(Value::Tuple(items));
            }
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                let floor = self.marks.last().copied().unwrap_or(0);
                if self.stack.len() < floor + n {
                    return self.fail("stack underflow");
                }
                let items = self.stack.split_off(self.stack.len() - n);
                self.stack.push(Value::Tuple(items));
            }
            _ => return self.unsupported(op),
        }
        Ok(())
    }

    /// None, booleans and ints (BININT, BININT1, BININT2, LONG1 up to 8 bytes).
    fn scalar_op(&mut self, op: u8) -> Result<(), PickleError> {
        match op {
            b'N' => self.stack.push(Value::None),
            0x88 => self.stack.push(Value::Bool(true)),
            0x89 => self.stack.push(Value::Bool(false)),
            b'J' => {
                let v = self.u32()? as i32;
                self.stack.push(Value::Int(v.into()));
            }
            b'K' => {
                let v = self.u8()?;
                self.stack.push(Value::Int(v.into()));
            }
            b'M' => {
                let v = self.u16()?;
                self.stack.push(Value::Int(v.into()));
            }
            0x8a => {
                let n = usize::from(self.u8()?);
                if n > 8 {
                    return self.fail(format!("LONG1 of {n} bytes: int too large"));
                }
                let raw = self.take(n)?;
                let mut le = [0u8; 8];
                le[..n].copy_from_slice(raw);
                let mut v = u64::from_le_bytes(le) as i64;
                if (1..8).contains(&n) && raw[n - 1] & 0x80 != 0 {
                    v -= 1i64 << (8 * n);
                }
                self.stack.push(Value::Int(v));
            }
            _ => return self.unsupported(op),
        }
        Ok(())
    }

    /// Strings (SHORT_BINUNICODE, BINUNICODE, BINUNICODE8) and bytes (SHORT_BINBYTES /
    /// SHORT_BINSTRING, BINBYTES / BINSTRING, BINBYTES8).
    fn data_op(&mut self, op: u8) -> Result<(), PickleError> {
        match op {
            0x8c => {
                let n = usize::from(self.u8()?);
                let v = self.text(n)?;
                self.stack.push(v);
            }
            b'X' => {
                let n = self.u32()? as usize;
                let v = self.text(n)?;
                self.stack.push(v);
            }
            0x8d => {
                let n = self.len_u64()?;
                let v = self.text(n)?;
                self.stack.push(v);
            }
            b'C' | b'U' => {
                let n = usize::from(self.u8()?);
                let v = self.take(n)?.to_vec();
                self.stack.push(Value::Bytes(v));
            }
            b'B' | b'T' => {
                let n = self.u32()? as usize;
                let v = self.take(n)?.to_vec();
                self.stack.push(Value::Bytes(v));
            }
            0x8e => {
                let n = self.len_u64()?;
                let v = self.take(n)?.to_vec();
                self.stack.push(Value::Bytes(v));
            }
            _ => return self.unsupported(op),
        }
        Ok(())
    }

    /// Globals (GLOBAL, STACK_GLOBAL, checked against the allowlist), REDUCE and BUILD.
    fn object_op(&mut self, op: u8) -> Result<(), PickleError> {
        match op {
            b'c' => {
                let module = self.line()?;
                let name = self.line()?;
                let g = self.global(&module, &name)?;
                self.stack.push(g);
            }
            0x93 => {
                let name = self.pop()?;
                let module = self.pop()?;
                let (Value::Str(module), Value::Str(name)) = (module, name) else {
                    return self.fail("STACK_GLOBAL needs two strings");
                };
                let g = self.global(&module, &name)?;
                self.stack.push(g);
            }
            b'R' => {
                let args = self.pop()?;
                let callable = self.pop()?;
                let v = self.reduce(callable, args)?;
                self.stack.push(v);
            }
            b'b' => {
                let state = self.pop()?;
                self.build(state)?;
            }
            _ => return self.unsupported(op),
        }
        Ok(())
    }

    /// The memo: BINPUT, LONG_BINPUT, MEMOIZE, BINGET, LONG_BINGET.
    fn memo_op(&mut self, op: u8) -> Result<(), PickleError> {
        match op {
            b'q' => {
                let k = self.u8()?;
                self.memo_put(k.into())?;
            }
            b'r' => {
                let k = self.u32()?;
                self.memo_put(k)?;
            }
            0x94 => {
                let k = u32::try_from(self.memo.len()).or_else(|_| self.fail("memo overflow"))?;
                self.memo_put(k)?;
            }
            b'h' => {
                let k = self.u8()?;
                let v = self.memo_get(k.into())?;
                self.stack.push(v);
            }
            b'j' => {
                let k = self.u32()?;
                let v = self.memo_get(k)?;
                self.stack.push(v);
            }
            _ => return self.unsupported(op),
        }
        Ok(())
    }

    /// A newline-terminated ASCII argument of `GLOBAL`.
    fn line(&mut self) -> Result<String, PickleError> {
        let rest = &self.bytes[self.pos..];
        let Some(n) = rest.iter().take(256).position(|&b| b == b'\n') else {
            return self.fail("GLOBAL name is not newline-terminated within 256 bytes");
        };
        let s = String::from_utf8_lossy(&rest[..n]).into_owned();
        self.pos += n + 1;
        Ok(s)
    }

    fn reduce(&mut self, callable: Value, args: Value) -> Result<Value, PickleError> {
        let Value::Tuple(args) = args else {
            return self.fail("REDUCE arguments are not a tuple");
        };
        match (callable, args.as_slice()) {
            (
                Value::Global(Global::Reconstruct),
                [
                    Value::Global(Global::Ndarray),
                    Value::Tuple(_),
                    Value::Bytes(_) | Value::Str(_),
                ],
            ) => Ok(Value::Array(Box::default())),
            (
                Value::Global(Global::Dtype),
                [
                    descr,
                    Value::Bool(_) | Value::Int(_),
                    Value::Bool(_) | Value::Int(_),
                ],
            ) => match descr.text() {
                Some(d) => Ok(Value::Dtype(d)),
                None => self.fail("numpy.dtype() of a non-string"),
            },
            (Value::Global(Global::CodecsEncode), [Value::Str(s), Value::Str(enc)])
                if enc == "latin1" || enc == "latin-1" =>
            {
                match s
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).ok())
                    .collect::<Option<Vec<u8>>>()
                {
                    Some(b) => Ok(Value::Bytes(b)),
                    None => self.fail("_codecs.encode: text is not latin-1"),
                }
            }
            (c, a) => self.fail(format!(
                "REDUCE of {} with ({}) is not numpy array reconstruction",
                c.type_name(),
                a.iter()
                    .map(Value::type_name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    fn build(&mut self, state: Value) -> Result<(), PickleError> {
        let target = self.top()?.clone();
        match (target, state) {
            // The dtype's own state (byte order, field names, flags): nothing we need.
            (Value::Dtype(_), Value::Tuple(_)) => Ok(()),
            (Value::Array(_), Value::Tuple(items)) => {
                let [
                    Value::Int(_),
                    Value::Tuple(shape),
                    Value::Dtype(dtype),
                    Value::Bool(_) | Value::Int(_),
                    data,
                ] = items.as_slice()
                else {
                    return self
                        .fail("ndarray state is not (version, shape, dtype, fortran, data)");
                };
                let mut dims = Vec::with_capacity(shape.len());
                for d in shape {
                    let Value::Int(d) = d else {
                        return self.fail("ndarray shape holds a non-int");
                    };
                    dims.push(*d);
                }
                let Value::List(id) = *data else {
                    return self.fail(format!(
                        "ndarray data is {}, not a list of objects (dtype {dtype:?})",
                        data.type_name()
                    ));
                };
                let built = ArrayState {
                    shape: Some(dims),
                    dtype: Some(dtype.clone()),
                    data: Some(id),
                };
                *self.top()? = Value::Array(Box::new(built));
                Ok(())
            }
            (t, s) => self.fail(format!("BUILD of {} with {}", t.type_name(), s.type_name())),
        }
    }

    /// Checks the decoded value is a 1-D object array of int lists and lays the rows out.
    fn finish(mut self, value: Value) -> Result<RaggedInts, PickleError> {
        self.at = self.bytes.len();
        let Value::Array(array) = value else {
            return self.fail(format!(
                "the pickle holds a {}, not an ndarray",
                value.type_name()
            ));
        };
        let (Some(shape), Some(dtype), Some(data)) = (&array.shape, &array.dtype, array.data)
        else {
            return self.fail("the ndarray was never given its state");
        };
        if !matches!(dtype.as_str(), "O" | "O8" | "O4" | "|O") {
            return self.fail(format!("dtype {dtype:?} is not object"));
        }
        let elements: Vec<Value> = match std::mem::replace(&mut self.lists[data], List::Empty) {
            List::Objects(v) => v,
            List::Empty => Vec::new(),
            List::Ints { .. } => {
                return self.fail("the array's elements are ints, not lists of ints");
            }
        };
        if shape.len() != 1 || shape[0] != elements.len() as i64 {
            return self.fail(format!(
                "shape {shape:?} with {} elements: expected a 1-D array of lists",
                elements.len()
            ));
        }
        let mut ranges = Vec::with_capacity(elements.len());
        for (i, e) in elements.iter().enumerate() {
            let range = match e {
                Value::List(id) => match &self.lists[*id] {
                    List::Empty => (0, 0),
                    List::Ints { start, len } => (*start, *len),
                    List::Objects(_) => {
                        return self
                            .fail(format!("element {i} is a nested list, not a list of ints"));
                    }
                },
                other => {
                    return self.fail(format!(
                        "element {i} is a {}, not a list of ints",
                        other.type_name()
                    ));
                }
            };
            ranges.push(range);
        }
        // Usually the rows already lie in order in the flat buffer: then it is the answer.
        let mut offsets = Vec::with_capacity(ranges.len() + 1);
        offsets.push(0);
        let mut in_order = true;
        for &(start, len) in &ranges {
            let at = *offsets.last().expect("non-empty");
            in_order &= len == 0 || start == at;
            offsets.push(at + len);
        }
        if in_order && *offsets.last().expect("non-empty") == self.ints.len() {
            return Ok(RaggedInts {
                values: self.ints,
                offsets,
            });
        }
        let mut values = Vec::with_capacity(*offsets.last().expect("non-empty"));
        for &(start, len) in &ranges {
            values.extend_from_slice(&self.ints[start..start + len]);
        }
        Ok(RaggedInts { values, offsets })
    }
}

fn opcode_name(op: u8) -> String {
    let name = match op {
        b'F' => "FLOAT",
        b'G' => "BINFLOAT",
        b'I' => "INT",
        b'L' => "LONG",
        0x8b => "LONG4",
        b'S' => "STRING",
        b'V' => "UNICODE",
        b'}' => "EMPTY_DICT",
        b'd' => "DICT",
        b's' => "SETITEM",
        b'u' => "SETITEMS",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x92 => "NEWOBJ_EX",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'i' => "INST",
        b'o' => "OBJ",
        0x81 => "NEWOBJ",
        0x82..=0x84 => "EXT",
        b'P' | b'Q' => "PERSID",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => return format!("{op:#04x}"),
    };
    format!("{name} ({op:#04x})")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The protocol-4 stream numpy 2 writes for `np.array([[5, 6], [7]], dtype=object)`
    /// (captured from `pickle.dumps(arr, protocol=4)`, frame header included).
    fn numpy_two_rows() -> Vec<u8> {
        let mut body: Vec<u8> = Vec::new();
        let s = |b: &mut Vec<u8>, t: &str| {
            b.push(0x8c);
            b.push(t.len() as u8);
            b.extend(t.as_bytes());
            b.push(0x94);
        };
        s(&mut body, "numpy._core.multiarray");
        s(&mut body, "_reconstruct");
        body.extend([0x93, 0x94]);
        s(&mut body, "numpy");
        s(&mut body, "ndarray");
        body.extend([
            0x93, 0x94, b'K', 0, 0x85, 0x94, b'C', 1, b'b', 0x94, 0x87, 0x94, b'R', 0x94,
        ]);
        body.extend([b'(', b'K', 1, b'K', 2, 0x85, 0x94]);
        s(&mut body, "numpy");
        s(&mut body, "dtype");
        body.extend([0x93, 0x94]);
        s(&mut body, "O8");
        body.extend([0x89, 0x88, 0x87, 0x94, b'R', 0x94, b'(', b'K', 3]);
        s(&mut body, "|");
        body.extend([
            b'N', b'N', b'N', b'J', 0xff, 0xff, 0xff, 0xff, b'J', 0xff, 0xff, 0xff, 0xff, b'K',
            0x3f, b't', 0x94, b'b',
        ]);
        body.extend([
            0x89, b']', 0x94, b'(', b']', 0x94, b'(', b'K', 5, b'K', 6, b'e', b']', 0x94, b'K', 7,
            b'a', b'e', b't', 0x94, b'b', b'.',
        ]);
        let mut out = vec![0x80, 4, 0x95];
        out.extend((body.len() as u64).to_le_bytes());
        out.extend(body);
        out
    }

    #[test]
    fn decodes_numpy_object_array() {
        let got = decode_object_array(&numpy_two_rows()).unwrap();
        assert_eq!(got, RaggedInts::from_rows(&[vec![5, 6], vec![7]]));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let good = numpy_two_rows();
        for cut in 0..good.len() {
            assert!(decode_object_array(&good[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn refuses_foreign_globals_and_protocol_0() {
        let evil = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03.";
        let e = decode_object_array(evil).unwrap_err();
        assert!(e.problem.contains("os.system is not allowed"), "{e}");
        let p0 = b"(lp0\nI1\na.";
        assert!(
            decode_object_array(p0)
                .unwrap_err()
                .problem
                .contains("protocols 0 and 1")
        );
        let float = b"\x80\x04]\x94(G?\xf0\x00\x00\x00\x00\x00\x00e.";
        assert!(
            decode_object_array(float)
                .unwrap_err()
                .problem
                .contains("BINFLOAT")
        );
    }
}
