//! The bytes of a configuration file -> its text. hanbao reads UTF-8 only
//! (a UTF-8 byte-order mark is accepted and dropped); for anything else
//! this says which encoding the file looks like (UTF-16 with or without a
//! byte-order mark, Windows-1258, another 8-bit code page) and how to save
//! it again as UTF-8, so the administrator is not left with an English I/O
//! error. Pure: no IO.

/// What a file that is not UTF-8 looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guess {
    /// UTF-16; `big_endian` as named in `iconv -f`, `bom` whether it starts
    /// with a byte-order mark.
    Utf16 { big_endian: bool, bom: bool },
    /// Windows-1258, the Vietnamese code page of Windows (Notepad's
    /// "ANSI" on a Vietnamese Windows).
    Windows1258,
    /// Some other 8-bit code page (Windows-1252, TCVN3, VNI, ...).
    EightBit,
}

/// A file that is not UTF-8: what it looks like, and where the first byte
/// that could not be read is (for positions in messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotUtf8 {
    pub guess: Guess,
    /// The file read as UTF-8 with each bad byte replaced by U+FFFD (empty
    /// for UTF-16, which is not worth showing that way).
    pub lossy: String,
    /// Byte offset in `lossy` of the first bad byte.
    pub offset: usize,
}

/// The text of a file: UTF-8, without a leading byte-order mark.
pub fn decode(bytes: Vec<u8>) -> Result<String, NotUtf8> {
    if let Some(guess) = utf16(&bytes) {
        return Err(NotUtf8 {
            guess,
            lossy: String::new(),
            offset: 0,
        });
    }
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| NotUtf8 {
        guess: eight_bit(e.as_bytes()),
        lossy: String::from_utf8_lossy(e.as_bytes()).into_owned(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// UTF-16 by its byte-order mark, or by its zero bytes: a TOML file is
/// mostly ASCII, which UTF-16 writes as one zero byte and one ASCII byte.
fn utf16(bytes: &[u8]) -> Option<Guess> {
    match bytes {
        [0xFF, 0xFE, ..] => {
            return Some(Guess::Utf16 {
                big_endian: false,
                bom: true,
            });
        }
        [0xFE, 0xFF, ..] => {
            return Some(Guess::Utf16 {
                big_endian: true,
                bom: true,
            });
        }
        _ => {}
    }
    let head = &bytes[..bytes.len().min(4096) & !1];
    // Too short to tell (and a few NULs are just a broken TOML file).
    if head.len() < 16 {
        return None;
    }
    let pairs = head.len() / 2;
    let zeros_at = |parity: usize| {
        head.iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    // At least 30 % of the characters look like ASCII in one byte order,
    // and almost none in the other.
    if odd * 10 >= pairs * 3 && even * 20 <= pairs {
        Some(Guess::Utf16 {
            big_endian: false,
            bom: false,
        })
    } else if even * 10 >= pairs * 3 && odd * 20 <= pairs {
        Some(Guess::Utf16 {
            big_endian: true,
            bom: false,
        })
    } else {
        None
    }
}

/// Windows-1258 when most bytes above ASCII are its Vietnamese letters
/// (Ă Â Ê Ô Ơ Ư Đ and their small forms) or its combining tone marks; some
/// other 8-bit code page otherwise.
fn eight_bit(bytes: &[u8]) -> Guess {
    const VIETNAMESE: [u8; 19] = [
        0xC3, 0xE3, 0xC2, 0xE2, 0xCA, 0xEA, 0xD4, 0xF4, 0xD5, 0xF5, 0xDD, 0xFD, 0xD0, 0xF0,
        // Combining grave, acute, tilde, hook above, dot below.
        0xCC, 0xEC, 0xDE, 0xD2, 0xF2,
    ];
    const TONE_MARKS: [u8; 5] = [0xCC, 0xEC, 0xDE, 0xD2, 0xF2];
    let high: Vec<u8> = bytes.iter().copied().filter(|&b| b >= 0x80).collect();
    let vietnamese = high.iter().filter(|b| VIETNAMESE.contains(b)).count();
    let tones = high.iter().filter(|b| TONE_MARKS.contains(b)).count();
    if tones > 0 && vietnamese * 10 >= high.len() * 7 {
        Guess::Windows1258
    } else {
        Guess::EightBit
    }
}

impl Guess {
    /// How the guess is named in messages.
    pub fn describe(self) -> &'static str {
        match self {
            Guess::Utf16 {
                big_endian: false,
                bom: true,
            } => "UTF-16 LE có BOM (Notepad gọi là \"Unicode\")",
            Guess::Utf16 {
                big_endian: false,
                bom: false,
            } => "UTF-16 LE không có BOM",
            Guess::Utf16 {
                big_endian: true,
                bom: true,
            } => "UTF-16 BE có BOM (Notepad gọi là \"Unicode big endian\")",
            Guess::Utf16 {
                big_endian: true,
                bom: false,
            } => "UTF-16 BE không có BOM",
            Guess::Windows1258 => {
                "Windows-1258 (bảng mã tiếng Việt cũ của Windows, Notepad gọi là \"ANSI\")"
            }
            Guess::EightBit => "một bảng mã 8 bit cũ (Windows-1258, Windows-1252, TCVN3 hay VNI)",
        }
    }

    /// The encoding's name for `iconv -f`.
    pub fn iconv_name(self) -> &'static str {
        match self {
            // With a BOM, iconv reads the byte order from it and drops it.
            Guess::Utf16 { bom: true, .. } => "UTF-16",
            Guess::Utf16 {
                big_endian: false,
                bom: false,
            } => "UTF-16LE",
            Guess::Utf16 {
                big_endian: true,
                bom: false,
            } => "UTF-16BE",
            Guess::Windows1258 | Guess::EightBit => "WINDOWS-1258",
        }
    }

    /// How to save the file `path` again as UTF-8.
    pub fn resave_hint(self, path: &str) -> String {
        let quoted = format!("'{}'", path.replace('\'', r"'\''"));
        let tmp = format!("'{}.utf8'", path.replace('\'', r"'\''"));
        let check = match self {
            Guess::EightBit => " (nếu tệp không phải Windows-1258, thay tên bảng mã cho đúng)",
            _ => "",
        };
        format!(
            "hanbao chỉ đọc tệp UTF-8: mở tệp trong Notepad, chọn Tệp > Lưu thành… và chọn \
             Mã hóa: UTF-8; hoặc trong LibreOffice Writer chọn Lưu thành… > Văn bản (.txt), \
             đánh dấu \"Sửa thiết lập bộ lọc\" và chọn Unicode (UTF-8); hoặc chạy \
             iconv -f {} -t UTF-8 {quoted} > {tmp} && mv {tmp} {quoted}{check}",
            self.iconv_name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[[unit]]\nid = \"so-yte\"\nname = \"Sở Y tế\"\n";

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend(if big_endian {
                [0xFE, 0xFF]
            } else {
                [0xFF, 0xFE]
            });
        }
        for u in text.encode_utf16() {
            out.extend(if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        out
    }

    #[test]
    fn guesses() {
        assert_eq!(decode(TEXT.as_bytes().to_vec()).as_deref(), Ok(TEXT));
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(TEXT.as_bytes());
        assert_eq!(decode(bom).as_deref(), Ok(TEXT), "a UTF-8 BOM is dropped");
        for big_endian in [false, true] {
            for bom in [false, true] {
                let got = decode(utf16(TEXT, big_endian, bom)).unwrap_err();
                assert_eq!(got.guess, Guess::Utf16 { big_endian, bom });
            }
        }
        // "Sở Y tế" in Windows-1258: S, o-horn (F5), hook above (D2), ...
        let cp1258 = b"name = \"S\xF5\xD2 Y t\xEA\xEC\"\n".to_vec();
        let got = decode(cp1258).unwrap_err();
        assert_eq!(got.guess, Guess::Windows1258);
        assert_eq!(got.offset, 9);
        // Latin-1 "café".
        let latin1 = b"name = \"caf\xE9\"\n".to_vec();
        assert_eq!(decode(latin1).unwrap_err().guess, Guess::EightBit);
    }

    #[test]
    fn hints_name_the_iconv_command() {
        let h = Guess::Utf16 {
            big_endian: false,
            bom: true,
        }
        .resave_hint("/etc/hanbao/don-vi.toml");
        assert!(
            h.contains("iconv -f UTF-16 -t UTF-8 '/etc/hanbao/don-vi.toml' > '/etc/hanbao/don-vi.toml.utf8'"),
            "{h}"
        );
        assert!(
            Guess::Windows1258
                .resave_hint("a.toml")
                .contains("iconv -f WINDOWS-1258")
        );
    }
}
