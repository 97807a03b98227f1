//! A minimal FlatBuffers table reader, every offset bounds-checked: AEDAT 4 needs two tables
//! (the `IOHeader`: two scalars and a string; an `EventPacket`: one vector of 16-byte
//! structs), too little for generated code and the `flatbuffers` crate, whose generated
//! accessors trust the buffer unless a separate verifier runs first.
//!
//! A table at `t` starts with an `i32` soffset to its vtable at `t − soffset`: `u16` vtable
//! size, `u16` table size, then one `u16` per field, the field's offset from `t` (0 or past
//! the vtable's end: absent, the default). A vector or string field holds a `u32` offset,
//! from the field, to a `u32` length and the elements.

/// A problem at a byte offset of the buffer: what was expected there.
pub(super) type Problem = (usize, String);

/// One table of a buffer.
pub(super) struct Table<'a> {
    buf: &'a [u8],
    at: usize,
    vtable: usize,
    vtable_len: usize,
}

fn bytes<const N: usize>(buf: &[u8], at: usize) -> Result<[u8; N], Problem> {
    at.checked_add(N)
        .and_then(|end| buf.get(at..end))
        .map(|b| b.try_into().expect("N bytes"))
        .ok_or_else(|| {
            (
                at,
                format!("{N} bytes of a FlatBuffers field; the buffer ends first"),
            )
        })
}

fn u32_at(buf: &[u8], at: usize) -> Result<usize, Problem> {
    Ok(u32::from_le_bytes(bytes(buf, at)?) as usize)
}

impl<'a> Table<'a> {
    /// The root table: the buffer starts with its `u32` offset.
    pub(super) fn root(buf: &'a [u8]) -> Result<Self, Problem> {
        Self::at(buf, u32_at(buf, 0)?)
    }

    fn at(buf: &'a [u8], at: usize) -> Result<Self, Problem> {
        let soffset = i64::from(i32::from_le_bytes(bytes(buf, at)?));
        let vtable = usize::try_from(at as i64 - soffset)
            .map_err(|_| (at, "a vtable inside the buffer".to_string()))?;
        let vtable_len = usize::from(u16::from_le_bytes(bytes(buf, vtable)?));
        if vtable_len < 4 || !vtable_len.is_multiple_of(2) || vtable + vtable_len > buf.len() {
            return Err((
                vtable,
                format!(
                    "a vtable of an even size of at least 4 bytes inside the buffer; found {vtable_len}"
                ),
            ));
        }
        Ok(Self {
            buf,
            at,
            vtable,
            vtable_len,
        })
    }

    /// The offset of field `index`'s value, if present.
    fn field(&self, index: usize) -> Result<Option<usize>, Problem> {
        let entry = 4 + 2 * index;
        if entry >= self.vtable_len {
            return Ok(None);
        }
        let offset = u16::from_le_bytes(bytes(self.buf, self.vtable + entry)?);
        Ok((offset != 0).then(|| self.at + usize::from(offset)))
    }

    /// Scalar field `index` as an `i32`, or `default`.
    pub(super) fn i32(&self, index: usize, default: i32) -> Result<i32, Problem> {
        match self.field(index)? {
            Some(at) => Ok(i32::from_le_bytes(bytes(self.buf, at)?)),
            None => Ok(default),
        }
    }

    /// Scalar field `index` as an `i64`, or `default`.
    pub(super) fn i64(&self, index: usize, default: i64) -> Result<i64, Problem> {
        match self.field(index)? {
            Some(at) => Ok(i64::from_le_bytes(bytes(self.buf, at)?)),
            None => Ok(default),
        }
    }

    /// Vector field `index` of `element`-byte elements: its offset in the buffer and its
    /// bytes, if present.
    pub(super) fn vector(
        &self,
        index: usize,
        element: usize,
    ) -> Result<Option<(usize, &'a [u8])>, Problem> {
        let Some(field) = self.field(index)? else {
            return Ok(None);
        };
        let start = field
            .checked_add(u32_at(self.buf, field)?)
            .ok_or_else(|| (field, "a vector inside the buffer".to_string()))?;
        let count = u32_at(self.buf, start)?;
        let data = start + 4;
        count
            .checked_mul(element)
            .and_then(|len| data.checked_add(len))
            .and_then(|end| self.buf.get(data..end))
            .map(|slice| Some((data, slice)))
            .ok_or_else(|| {
                (
                    start,
                    format!("a vector of {count} {element}-byte elements inside the buffer"),
                )
            })
    }

    /// String field `index`, if present.
    pub(super) fn string(&self, index: usize) -> Result<Option<(usize, &'a str)>, Problem> {
        match self.vector(index, 1)? {
            Some((at, text)) => std::str::from_utf8(text)
                .map(|s| Some((at, s)))
                .map_err(|e| (at + e.valid_up_to(), "a UTF-8 string".to_string())),
            None => Ok(None),
        }
    }
}
