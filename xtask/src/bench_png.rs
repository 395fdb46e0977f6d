//! docs/benchmarks.png: a bar chart of the Ferrite/Linux ratios.
//!
//! One horizontal bar per benchmark on a log2 axis centred on 1.0: green
//! bars go left (Ferrite better), red bars go right (Ferrite worse). Text is
//! drawn with the 8x8 glyphs of `font8x8`, and the image is encoded here as
//! an 8-bit RGB PNG (zlib from `miniz_oxide`), so no font file or image
//! library is needed.

use font8x8::legacy::BASIC_LEGACY;

type Rgb = [u8; 3];

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
const GREY: Rgb = [200, 200, 200];
const GREEN: Rgb = [46, 160, 67];
const RED: Rgb = [207, 34, 46];

/// Ratio axis: 2^-AXIS ..= 2^AXIS.
const AXIS: i32 = 4;
const ROW_H: usize = 22;
const LABEL_W: usize = 200;
const PLOT_W: usize = 640;
const RIGHT_W: usize = 90;
const TOP: usize = 56;

/// An RGB canvas.
struct Canvas {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: usize, h: usize) -> Self {
        Self {
            w,
            h,
            px: WHITE.repeat(w * h),
        }
    }

    fn set(&mut self, x: usize, y: usize, c: Rgb) {
        if x < self.w && y < self.h {
            let i = (y * self.w + x) * 3;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    fn rect(&mut self, x0: usize, y0: usize, x1: usize, y1: usize, c: Rgb) {
        for y in y0..y1 {
            for x in x0..x1 {
                self.set(x, y, c);
            }
        }
    }

    /// 8x8 glyphs, `scale` pixels per glyph pixel; `x`, `y` = top left.
    fn text(&mut self, x: usize, y: usize, s: &str, c: Rgb) {
        for (i, ch) in s.chars().enumerate() {
            let glyph = BASIC_LEGACY
                .get(ch as usize)
                .copied()
                .unwrap_or(BASIC_LEGACY[b'?' as usize]);
            for (gy, bits) in glyph.iter().enumerate() {
                for gx in 0..8 {
                    if bits & (1 << gx) != 0 {
                        self.set(x + i * 8 + gx, y + gy, c);
                    }
                }
            }
        }
    }

    fn text_width(s: &str) -> usize {
        s.chars().count() * 8
    }
}

/// The x of a ratio on the log2 axis.
fn axis_x(ratio: f64) -> usize {
    let l = ratio.log2().clamp(-AXIS as f64, AXIS as f64);
    let frac = (l + AXIS as f64) / (2 * AXIS) as f64;
    LABEL_W + (frac * PLOT_W as f64).round() as usize
}

/// Draws the chart of `(label, ratio)` rows (ratio < 1: Ferrite better) and
/// returns the PNG bytes.
pub fn chart(title: &str, rows: &[(String, f64)]) -> Vec<u8> {
    let w = LABEL_W + PLOT_W + RIGHT_W;
    let h = TOP + rows.len().max(1) * ROW_H + 30;
    let mut c = Canvas::new(w, h);
    c.text(8, 8, title, BLACK);
    c.text(
        8,
        24,
        "ratio, log scale; green < 1 = Ferrite better, red > 1 = worse",
        BLACK,
    );
    let plot_bottom = TOP + rows.len() * ROW_H;
    // Grid lines and their labels at powers of two.
    for e in -AXIS..=AXIS {
        let x = axis_x(2f64.powi(e));
        let colour = if e == 0 { BLACK } else { GREY };
        c.rect(x, TOP - 4, x + 1, plot_bottom + 4, colour);
        let label = if e >= 0 {
            format!("{}", 1u32 << e)
        } else {
            format!("1/{}", 1u32 << -e)
        };
        let lw = Canvas::text_width(&label);
        c.text(x.saturating_sub(lw / 2), plot_bottom + 10, &label, BLACK);
    }
    let one = axis_x(1.0);
    for (i, (label, ratio)) in rows.iter().enumerate() {
        let y = TOP + i * ROW_H;
        let lw = Canvas::text_width(label);
        c.text(LABEL_W.saturating_sub(lw + 8), y + 7, label, BLACK);
        let x = axis_x(*ratio);
        let (x0, x1, colour) = if *ratio <= 1.0 {
            (x, one, GREEN)
        } else {
            (one + 1, x + 1, RED)
        };
        c.rect(x0, y + 4, x1.max(x0 + 1), y + ROW_H - 4, colour);
        let text = format!("{ratio:.2}");
        let tx = if *ratio <= 1.0 {
            x.saturating_sub(Canvas::text_width(&text) + 4)
        } else {
            x + 5
        };
        c.text(tx.max(LABEL_W + 2), y + 7, &text, BLACK);
    }
    encode_png(c.w, c.h, &c.px)
}

/// An 8-bit RGB PNG of `rgb` (`w * h * 3` bytes, rows top to bottom).
pub fn encode_png(w: usize, h: usize, rgb: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(h * (w * 3 + 1));
    for row in rgb.chunks(w * 3) {
        raw.push(0); // filter: none
        raw.extend_from_slice(row);
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&(w as u32).to_be_bytes());
    ihdr.extend_from_slice(&(h as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8 bit, RGB, deflate, no filter, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &miniz_oxide::deflate::compress_to_vec_zlib(&raw, 9),
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// CRC-32 (IEEE), as PNG chunks use.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_iend() {
        // Every PNG ends with this chunk: IEND's CRC is ae426082.
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
    }

    #[test]
    fn png_round_trip_header() {
        let png = chart("t", &[("a".into(), 0.5), ("b".into(), 3.0)]);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert!(png.ends_with(&[0xae, 0x42, 0x60, 0x82]));
        let idat = png.windows(4).position(|w| w == b"IDAT").unwrap();
        let len = u32::from_be_bytes(png[idat - 4..idat].try_into().unwrap()) as usize;
        let raw =
            miniz_oxide::inflate::decompress_to_vec_zlib(&png[idat + 4..idat + 4 + len]).unwrap();
        let w = u32::from_be_bytes(png[16..20].try_into().unwrap()) as usize;
        let h = u32::from_be_bytes(png[20..24].try_into().unwrap()) as usize;
        assert_eq!(raw.len(), h * (w * 3 + 1));
    }

    #[test]
    fn axis_is_centred_on_one() {
        assert_eq!(axis_x(1.0), LABEL_W + PLOT_W / 2);
        assert!(axis_x(0.5) < axis_x(1.0) && axis_x(2.0) > axis_x(1.0));
        assert_eq!(axis_x(1e9), LABEL_W + PLOT_W);
    }
}
