//! The `.npy` format (versions 1.0, 2.0 and 3.0): header parsing and 1-D integer arrays.
//!
//! A `.npy` file is `\x93NUMPY`, a major and minor version byte, the header length (u16 LE
//! for version 1, u32 LE for 2 and 3), then the header: a Python dict literal such as
//! `{'descr': '<i8', 'fortran_order': False, 'shape': (25000,), }` padded with spaces and a
//! newline, then the data. Object arrays (`descr` `'|O'`) are a pickle stream instead of raw
//! data (see [`crate::pickle`]).
//!
//! The header parser is hand-written for exactly this literal syntax: a dict of string keys
//! whose values are strings, `True`/`False`, or tuples of non-negative integers. Anything
//! else (structured dtypes, which numpy writes as lists) is refused.

/// Largest header we read. numpy itself refuses headers over 10,000 bytes by default.
pub const MAX_HEADER_BYTES: usize = 1 << 16;
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// What is wrong with an `.npy` stream.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NpyError {
    #[error("not a .npy stream (bad magic)")]
    BadMagic,
    #[error("truncated .npy: {0}")]
    Truncated(&'static str),
    #[error("unsupported .npy format version {0}.{1} (1.0, 2.0 and 3.0 are read)")]
    Version(u8, u8),
    #[error(".npy header of {0} bytes is larger than the {MAX_HEADER_BYTES} this reader accepts")]
    HeaderTooLarge(usize),
    #[error("bad .npy header: {0}")]
    Header(String),
    #[error("unsupported dtype {descr:?}: {why}")]
    Dtype { descr: String, why: &'static str },
    #[error("{0}")]
    Data(String),
}

/// The element type of an array, as far as this project needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// `'|O'`: Python objects, stored as a pickle stream.
    Object,
    /// A fixed-width integer or bool.
    Int {
        bytes: u8,
        signed: bool,
        big_endian: bool,
    },
}

/// A parsed `.npy` header and where its data starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyHeader {
    pub version: (u8, u8),
    pub descr: String,
    pub dtype: Dtype,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
    /// Offset of the first data byte.
    pub data_offset: usize,
}

/// Parses the magic, version and header dict at the start of `bytes`.
pub fn parse_header(bytes: &[u8]) -> Result<NpyHeader, NpyError> {
    if bytes.len() < 8 {
        return Err(if bytes.len() < 6 || &bytes[..6] == MAGIC {
            NpyError::Truncated("no room for the magic and version")
        } else {
            NpyError::BadMagic
        });
    }
    if &bytes[..6] != MAGIC {
        return Err(NpyError::BadMagic);
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (len_bytes, utf8) = match (major, minor) {
        (1, 0) => (2, false),
        (2, 0) => (4, false),
        (3, 0) => (4, true),
        _ => return Err(NpyError::Version(major, minor)),
    };
    let len_field = bytes
        .get(8..8 + len_bytes)
        .ok_or(NpyError::Truncated("no header length"))?;
    let header_len = match len_field {
        [a, b] => usize::from(u16::from_le_bytes([*a, *b])),
        [a, b, c, d] => u32::from_le_bytes([*a, *b, *c, *d]) as usize,
        _ => unreachable!("2 or 4 bytes"),
    };
    if header_len > MAX_HEADER_BYTES {
        return Err(NpyError::HeaderTooLarge(header_len));
    }
    let start = 8 + len_bytes;
    let raw = bytes
        .get(start..start + header_len)
        .ok_or(NpyError::Truncated("header shorter than stated"))?;
    let text: String = if utf8 {
        std::str::from_utf8(raw)
            .map_err(|_| NpyError::Header("version 3 header is not UTF-8".into()))?
            .to_owned()
    } else {
        // Versions 1 and 2 are latin-1: every byte is one code point.
        raw.iter().map(|&b| char::from(b)).collect()
    };
    let dict = HeaderDict::parse(&text)?;
    let dtype = parse_descr(&dict.descr)?;
    Ok(NpyHeader {
        version: (major, minor),
        descr: dict.descr,
        dtype,
        fortran_order: dict.fortran_order,
        shape: dict.shape,
        data_offset: start + header_len,
    })
}

/// Maps a numpy type string to a [`Dtype`]: `|O` (and `O`), and integer or bool types with
/// an explicit byte order (`<`, `>`, `|`, `=`: this reader assumes `=` means little-endian).
fn parse_descr(descr: &str) -> Result<Dtype, NpyError> {
    let unsupported = |why| NpyError::Dtype {
        descr: descr.to_owned(),
        why,
    };
    let (order, code) = match descr.as_bytes().first() {
        Some(b'<' | b'>' | b'|' | b'=') => (descr.as_bytes()[0], &descr[1..]),
        _ => (b'|', descr),
    };
    if code == "O" || code == "O8" || code == "O4" {
        return Ok(Dtype::Object);
    }
    if !code.is_ascii() {
        return Err(unsupported("not an integer or object dtype"));
    }
    let (kind, width) = code.split_at(code.len().min(1));
    let bytes: u8 = width
        .parse()
        .map_err(|_| unsupported("not an integer or object dtype"))?;
    let signed = match kind {
        "i" => true,
        "u" | "b" => false,
        "f" | "c" | "e" | "d" => {
            return Err(unsupported(
                "floating-point values are not word ids or labels",
            ));
        }
        _ => return Err(unsupported("not an integer or object dtype")),
    };
    if !matches!(bytes, 1 | 2 | 4 | 8) || (kind == "b" && bytes != 1) {
        return Err(unsupported("integer width must be 1, 2, 4 or 8 bytes"));
    }
    Ok(Dtype::Int {
        bytes,
        signed,
        big_endian: order == b'>' && bytes > 1,
    })
}

/// The three keys of a `.npy` header dict.
struct HeaderDict {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

enum Literal {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

impl HeaderDict {
    fn parse(text: &str) -> Result<HeaderDict, NpyError> {
        let mut p = Lexer {
            s: text.as_bytes(),
            i: 0,
        };
        let (mut descr, mut fortran, mut shape) = (None, None, None);
        p.expect(b'{')?;
        loop {
            p.skip_ws();
            if p.eat(b'}') {
                break;
            }
            let key = p.string()?;
            p.expect(b':')?;
            let value = p.literal()?;
            match (key.as_str(), value) {
                ("descr", Literal::Str(s)) if descr.is_none() => descr = Some(s),
                ("fortran_order", Literal::Bool(b)) if fortran.is_none() => fortran = Some(b),
                ("shape", Literal::Tuple(t)) if shape.is_none() => shape = Some(t),
                (k, _) => {
                    return Err(NpyError::Header(format!(
                        "unexpected, repeated or mistyped key {k:?}"
                    )));
                }
            }
            p.skip_ws();
            if !p.eat(b',') {
                p.expect(b'}')?;
                break;
            }
        }
        p.skip_ws();
        if p.i != p.s.len() {
            return Err(NpyError::Header(
                "trailing characters after the dict".into(),
            ));
        }
        match (descr, fortran, shape) {
            (Some(descr), Some(fortran_order), Some(shape)) => Ok(HeaderDict {
                descr,
                fortran_order,
                shape,
            }),
            _ => Err(NpyError::Header(
                "missing one of 'descr', 'fortran_order', 'shape'".into(),
            )),
        }
    }
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl Lexer<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), NpyError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(NpyError::Header(format!(
                "expected {:?} at character {}",
                char::from(c),
                self.i
            )))
        }
    }

    fn string(&mut self) -> Result<String, NpyError> {
        self.skip_ws();
        let quote = match self.s.get(self.i) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => {
                return Err(NpyError::Header(format!(
                    "expected a string at character {}",
                    self.i
                )));
            }
        };
        let start = self.i + 1;
        let len = self.s[start..]
            .iter()
            .position(|&c| c == quote || c == b'\\')
            .ok_or_else(|| NpyError::Header("unterminated string".into()))?;
        if self.s[start + len] == b'\\' {
            return Err(NpyError::Header(
                "escapes in header strings are not supported".into(),
            ));
        }
        self.i = start + len + 1;
        Ok(String::from_utf8_lossy(&self.s[start..start + len]).into_owned())
    }

    fn literal(&mut self) -> Result<Literal, NpyError> {
        self.skip_ws();
        let rest = &self.s[self.i..];
        if rest.starts_with(b"True") {
            self.i += 4;
            Ok(Literal::Bool(true))
        } else if rest.starts_with(b"False") {
            self.i += 5;
            Ok(Literal::Bool(false))
        } else if self.eat(b'(') {
            let mut dims = Vec::new();
            loop {
                if self.eat(b')') {
                    break;
                }
                dims.push(self.integer()?);
                if !self.eat(b',') {
                    self.expect(b')')?;
                    break;
                }
            }
            Ok(Literal::Tuple(dims))
        } else if matches!(rest.first(), Some(b'\'' | b'"')) {
            Ok(Literal::Str(self.string()?))
        } else {
            Err(NpyError::Header(format!(
                "unsupported value at character {} (structured dtypes are not read)",
                self.i
            )))
        }
    }

    fn integer(&mut self) -> Result<usize, NpyError> {
        self.skip_ws();
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        // Python 2 numpy wrote `25000L`.
        let digits = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
        if self.s.get(self.i) == Some(&b'L') {
            self.i += 1;
        }
        digits
            .parse()
            .map_err(|_| NpyError::Header(format!("bad dimension at character {start}")))
    }
}

/// Reads a whole `.npy` stream holding a 1-D integer (or bool) array as `i64` values.
pub fn read_int_vector(bytes: &[u8]) -> Result<Vec<i64>, NpyError> {
    let header = parse_header(bytes)?;
    let Dtype::Int {
        bytes: width,
        signed,
        big_endian,
    } = header.dtype
    else {
        return Err(NpyError::Dtype {
            descr: header.descr,
            why: "expected an integer array",
        });
    };
    let [n] = header.shape[..] else {
        return Err(NpyError::Data(format!(
            "expected a 1-D array, found shape {:?}",
            header.shape
        )));
    };
    let width = usize::from(width);
    let data = &bytes[header.data_offset..];
    let need = n
        .checked_mul(width)
        .ok_or_else(|| NpyError::Data("array size overflows".into()))?;
    if data.len() < need {
        return Err(NpyError::Truncated("fewer data bytes than the shape needs"));
    }
    if data.len() > need {
        return Err(NpyError::Data(format!(
            "{} bytes follow the {need} bytes of data",
            data.len() - need
        )));
    }
    Ok(data
        .chunks_exact(width)
        .map(|c| {
            let mut le = [0u8; 8];
            le[..width].copy_from_slice(c);
            if big_endian {
                le[..width].reverse();
            }
            let unsigned = u64::from_le_bytes(le);
            if signed && width < 8 {
                // Sign-extend from `width` bytes.
                let shift = 64 - 8 * width as u32;
                ((unsigned << shift) as i64) >> shift
            } else {
                unsigned as i64
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(version: u8, dict: &str, data: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend([version, 0]);
        if version == 1 {
            out.extend((dict.len() as u16).to_le_bytes());
        } else {
            out.extend((dict.len() as u32).to_le_bytes());
        }
        out.extend(dict.as_bytes());
        out.extend(data);
        out
    }

    #[test]
    fn parses_numpy_headers_of_every_version() {
        let dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }          \n";
        for v in 1..=3 {
            let h = parse_header(&npy(v, dict, &[])).unwrap();
            assert_eq!(
                h.dtype,
                Dtype::Int {
                    bytes: 8,
                    signed: true,
                    big_endian: false
                }
            );
            assert_eq!(h.shape, vec![3]);
            assert!(!h.fortran_order);
            assert_eq!(h.version, (v, 0));
        }
        let obj = parse_header(&npy(
            1,
            "{'descr': '|O', 'fortran_order': False, 'shape': (25000L,)}\n",
            &[],
        ))
        .unwrap();
        assert_eq!((obj.dtype, obj.shape), (Dtype::Object, vec![25000]));
        let scalar = parse_header(&npy(
            1,
            "{'descr':'|u1','fortran_order':True,'shape':()}",
            &[],
        ))
        .unwrap();
        assert_eq!((scalar.shape.len(), scalar.fortran_order), (0, true));
    }

    #[test]
    fn reads_int_vectors_of_every_width_and_order() {
        let vals: [i64; 4] = [0, 1, -2, 300];
        let le: Vec<u8> = vals
            .iter()
            .flat_map(|v| (*v as i32).to_le_bytes())
            .collect();
        let be: Vec<u8> = vals
            .iter()
            .flat_map(|v| (*v as i16).to_be_bytes())
            .collect();
        let d = |descr: &str| {
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (4,), }}")
        };
        assert_eq!(read_int_vector(&npy(1, &d("<i4"), &le)).unwrap(), vals);
        assert_eq!(read_int_vector(&npy(1, &d(">i2"), &be)).unwrap(), vals);
        assert_eq!(
            read_int_vector(&npy(1, &d("|u1"), &[0, 1, 254, 255])).unwrap(),
            [0, 1, 254, 255]
        );
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let d = |descr: &str, shape: &str| {
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}")
        };
        assert_eq!(parse_header(b"\x93NUMPZ\x01\x00"), Err(NpyError::BadMagic));
        assert_eq!(
            parse_header(b"\x93NUMPY\x04\x00\x00\x00"),
            Err(NpyError::Version(4, 0))
        );
        assert!(matches!(
            parse_header(&npy(1, &d("<f8", "(2,)"), &[])),
            Err(NpyError::Dtype { .. })
        ));
        assert!(matches!(
            parse_header(&npy(
                1,
                "{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,)}",
                &[]
            )),
            Err(NpyError::Header(_))
        ));
        assert!(matches!(
            parse_header(&npy(1, "{'descr': '<i4', 'shape': (2,)}", &[])),
            Err(NpyError::Header(_))
        ));
        assert!(matches!(
            read_int_vector(&npy(1, &d("<i4", "(2,)"), &[0; 7])),
            Err(NpyError::Truncated(_))
        ));
        assert!(matches!(
            read_int_vector(&npy(1, &d("<i4", "(2, 1)"), &[0; 8])),
            Err(NpyError::Data(_))
        ));
        // Found by the fuzzer: a non-ASCII type code once split inside a UTF-8 character.
        assert!(matches!(
            parse_header(&npy(3, &d("\u{fc}u1", "(2,)"), &[])),
            Err(NpyError::Dtype { .. })
        ));
        let mut long = npy(2, "{}", &[]);
        long[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            parse_header(&long),
            Err(NpyError::HeaderTooLarge(u32::MAX as usize))
        );
        // Every truncation of a good stream is an error, never a panic.
        let good = npy(1, &d("<i4", "(2,)"), &[1, 0, 0, 0, 0, 0, 0, 0]);
        for cut in 0..good.len() {
            assert!(read_int_vector(&good[..cut]).is_err(), "cut at {cut}");
        }
    }
}
