//! A helper shared by the fingerprint unit tests of this crate and `lcm fingerprint`'s tests in
//! lcm-cli, which both include this file with `#[path]`.

/// A safetensors file of u8 tensors, each `(name, bytes)`, in the given order.
pub(crate) fn u8_safetensors(tensors: &[(&str, &[u8])]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (name, bytes) in tensors {
        let start = data.len();
        data.extend_from_slice(bytes);
        header.insert(
            (*name).to_owned(),
            serde_json::json!({"dtype": "U8", "shape": [bytes.len()], "data_offsets": [start, data.len()]}),
        );
    }
    file(&serde_json::Value::Object(header).to_string(), &data)
}

/// A safetensors file of `header` (its JSON text) and the data section `data`.
pub(crate) fn file(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}
