//! Astronomy for the lunar calendar: instants of new moons and the Sun's
//! apparent longitude, from the formulas in Jean Meeus, "Astronomical
//! Algorithms" (2nd ed.): chapter 49 (phases of the Moon, with the main
//! periodic terms and the planetary arguments) and chapter 25 (solar
//! coordinates, the low-accuracy series, good to about 0.01°).
//!
//! Times are Julian Days. Meeus's series give Julian *Ephemeris* Days (TT);
//! [`delta_t`] converts to Universal Time with the Espenak–Meeus polynomial
//! fits. Accuracy over 1900–2100: new moons within about a minute, solar
//! longitude within about 0.01° (roughly 15 minutes of time). The lunar
//! calendar was cross-checked against an independent ephemeris for every
//! month 1900–2100 (see `lunar.rs`).
//!
//! Pure arithmetic: no IO, no clock, no allocation.

use std::f64::consts::PI;

fn rad(deg: f64) -> f64 {
    deg * PI / 180.0
}

fn sin_deg(deg: f64) -> f64 {
    rad(deg).sin()
}

/// Reduces an angle to [0, 360).
fn normalize_degrees(deg: f64) -> f64 {
    deg.rem_euclid(360.0)
}

/// ΔT = TT − UT in seconds for a decimal year, from the polynomial fits
/// published by Espenak and Meeus (NASA Five Millennium Canon). Outside
/// 1860–2150 the long-term parabola is used.
fn delta_t(year: f64) -> f64 {
    let y = year;
    if (1860.0..1900.0).contains(&y) {
        let t = y - 1860.0;
        7.62 + 0.5737 * t - 0.251754 * t.powi(2) + 0.01680668 * t.powi(3) - 0.0004473624 * t.powi(4)
            + t.powi(5) / 233174.0
    } else if (1900.0..1920.0).contains(&y) {
        let t = y - 1900.0;
        -2.79 + 1.494119 * t - 0.0598939 * t.powi(2) + 0.0061966 * t.powi(3) - 0.000197 * t.powi(4)
    } else if (1920.0..1941.0).contains(&y) {
        let t = y - 1920.0;
        21.20 + 0.84493 * t - 0.076100 * t.powi(2) + 0.0020936 * t.powi(3)
    } else if (1941.0..1961.0).contains(&y) {
        let t = y - 1950.0;
        29.07 + 0.407 * t - t.powi(2) / 233.0 + t.powi(3) / 2547.0
    } else if (1961.0..1986.0).contains(&y) {
        let t = y - 1975.0;
        45.45 + 1.067 * t - t.powi(2) / 260.0 - t.powi(3) / 718.0
    } else if (1986.0..2005.0).contains(&y) {
        let t = y - 2000.0;
        63.86 + 0.3345 * t - 0.060374 * t.powi(2)
            + 0.0017275 * t.powi(3)
            + 0.000651814 * t.powi(4)
            + 0.00002373599 * t.powi(5)
    } else if (2005.0..2050.0).contains(&y) {
        let t = y - 2000.0;
        62.92 + 0.32217 * t + 0.005589 * t.powi(2)
    } else if (2050.0..2150.0).contains(&y) {
        -20.0 + 32.0 * ((y - 1820.0) / 100.0).powi(2) - 0.5628 * (2150.0 - y)
    } else {
        let u = (y - 1820.0) / 100.0;
        -20.0 + 32.0 * u * u
    }
}

/// Decimal year of a Julian Day (close enough for ΔT).
fn decimal_year(jd: f64) -> f64 {
    2000.0 + (jd - 2_451_545.0) / 365.25
}

/// Converts a Julian Ephemeris Day (TT) to a Julian Day in UT.
fn tt_to_ut(jde: f64) -> f64 {
    jde - delta_t(decimal_year(jde)) / 86_400.0
}

/// Converts a Julian Day in UT to a Julian Ephemeris Day (TT).
fn ut_to_tt(jd: f64) -> f64 {
    jd + delta_t(decimal_year(jd)) / 86_400.0
}

/// The instant (JDE, TT) of the new moon with lunation number `k`
/// (k = 0 is the new moon of 6 January 2000; Meeus eq. 49.1 and the
/// corrections of ch. 49 for the new moon).
fn new_moon_jde(k: i32) -> f64 {
    let k = f64::from(k);
    let t = k / 1236.85;
    let t2 = t * t;
    let t3 = t2 * t;
    let t4 = t3 * t;
    let mut jde = 2_451_550.097_66 + 29.530_588_861 * k + 0.000_154_37 * t2 - 0.000_000_150 * t3
        + 0.000_000_000_73 * t4;
    let e = 1.0 - 0.002_516 * t - 0.000_007_4 * t2;
    // Sun's mean anomaly, Moon's mean anomaly, Moon's argument of latitude,
    // longitude of the ascending node (degrees).
    let m = 2.5534 + 29.105_356_70 * k - 0.000_001_4 * t2 - 0.000_000_11 * t3;
    let mp =
        201.5643 + 385.816_935_28 * k + 0.010_758_2 * t2 + 0.000_012_38 * t3 - 0.000_000_058 * t4;
    let f =
        160.7108 + 390.670_502_84 * k - 0.001_611_8 * t2 - 0.000_002_27 * t3 + 0.000_000_011 * t4;
    let om = 124.7746 - 1.563_755_88 * k + 0.002_067_2 * t2 + 0.000_002_15 * t3;

    let periodic = -0.40720 * sin_deg(mp)
        + 0.17241 * e * sin_deg(m)
        + 0.01608 * sin_deg(2.0 * mp)
        + 0.01039 * sin_deg(2.0 * f)
        + 0.00739 * e * sin_deg(mp - m)
        - 0.00514 * e * sin_deg(mp + m)
        + 0.00208 * e * e * sin_deg(2.0 * m)
        - 0.00111 * sin_deg(mp - 2.0 * f)
        - 0.00057 * sin_deg(mp + 2.0 * f)
        + 0.00056 * e * sin_deg(2.0 * mp + m)
        - 0.00042 * sin_deg(3.0 * mp)
        + 0.00042 * e * sin_deg(m + 2.0 * f)
        + 0.00038 * e * sin_deg(m - 2.0 * f)
        - 0.00024 * e * sin_deg(2.0 * mp - m)
        - 0.00017 * sin_deg(om)
        - 0.00007 * sin_deg(mp + 2.0 * m)
        + 0.00004 * sin_deg(2.0 * mp - 2.0 * f)
        + 0.00004 * sin_deg(3.0 * m)
        + 0.00003 * sin_deg(mp + m - 2.0 * f)
        + 0.00003 * sin_deg(2.0 * mp + 2.0 * f)
        - 0.00003 * sin_deg(mp + m + 2.0 * f)
        + 0.00003 * sin_deg(mp - m + 2.0 * f)
        - 0.00002 * sin_deg(mp - m - 2.0 * f)
        - 0.00002 * sin_deg(3.0 * mp + m)
        + 0.00002 * sin_deg(4.0 * mp);
    jde += periodic;

    // Additional corrections from the planetary arguments A1..A14.
    const PLANETARY: [(f64, f64, f64); 14] = [
        (299.77, 0.107_408, 0.000_325),
        (251.88, 0.016_321, 0.000_165),
        (251.83, 26.651_886, 0.000_164),
        (349.42, 36.412_478, 0.000_126),
        (84.66, 18.206_239, 0.000_110),
        (141.74, 53.303_771, 0.000_062),
        (207.14, 2.453_732, 0.000_060),
        (154.84, 7.306_860, 0.000_056),
        (34.52, 27.261_239, 0.000_047),
        (207.19, 0.121_824, 0.000_042),
        (291.34, 1.844_379, 0.000_040),
        (161.72, 24.198_154, 0.000_037),
        (239.56, 25.513_099, 0.000_035),
        (331.55, 3.592_518, 0.000_023),
    ];
    for (i, (a0, a1, coef)) in PLANETARY.iter().enumerate() {
        let mut arg = a0 + a1 * k;
        if i == 0 {
            arg -= 0.009_173 * t2;
        }
        jde += coef * sin_deg(arg);
    }
    jde
}

/// The instant (JD, UT) of the new moon with lunation number `k`.
pub fn new_moon_ut(k: i32) -> f64 {
    tt_to_ut(new_moon_jde(k))
}

/// The lunation number of the first new moon at or after about `jd` (UT);
/// an estimate to start searches from (may be off by one).
pub fn lunation_near(jd: f64) -> i32 {
    ((jd - 2_451_550.097_66) / 29.530_588_861).floor() as i32
}

/// The Sun's apparent geocentric longitude in degrees [0, 360) at `jde`
/// (TT), Meeus ch. 25 low-accuracy method (corrected for nutation and
/// aberration).
fn sun_apparent_longitude(jde: f64) -> f64 {
    let t = (jde - 2_451_545.0) / 36_525.0;
    let l0 = 280.466_46 + 36_000.769_83 * t + 0.000_303_2 * t * t;
    let m = 357.529_11 + 35_999.050_29 * t - 0.000_153_7 * t * t;
    let c = (1.914_602 - 0.004_817 * t - 0.000_014 * t * t) * sin_deg(m)
        + (0.019_993 - 0.000_101 * t) * sin_deg(2.0 * m)
        + 0.000_289 * sin_deg(3.0 * m);
    let true_long = l0 + c;
    let omega = 125.04 - 1_934.136 * t;
    normalize_degrees(true_long - 0.005_69 - 0.004_78 * sin_deg(omega))
}

/// The Sun's apparent longitude at `jd` in Universal Time.
pub fn sun_longitude_ut(jd: f64) -> f64 {
    sun_apparent_longitude(ut_to_tt(jd))
}

/// The instant (JD, UT) near `jd_guess` at which the Sun's apparent
/// longitude equals `target` degrees (Newton iteration on the mean motion;
/// the guess must be within a few weeks).
pub fn sun_reaches(target: f64, jd_guess: f64) -> f64 {
    let mut jd = jd_guess;
    for _ in 0..20 {
        let lon = sun_longitude_ut(jd);
        // Signed difference in (-180, 180].
        let mut diff = target - lon;
        diff = (diff + 180.0).rem_euclid(360.0) - 180.0;
        // The Sun moves about 0.9856 °/day.
        let step = diff / 0.985_647_36;
        jd += step;
        if step.abs() < 1e-7 {
            break;
        }
    }
    jd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeus_example_49a_new_moon_february_1977() {
        // Meeus example 49.a: the new moon of February 1977, k = -283,
        // JDE = 2443192.65118 (1977 Feb 18, 3h37m42s TD).
        let jde = new_moon_jde(-283);
        assert!((jde - 2_443_192.651_18).abs() < 0.000_02, "{jde}");
    }

    #[test]
    fn meeus_example_25a_sun_longitude_1992_october_13() {
        // Meeus example 25.a: 1992 Oct 13.0 TD (JDE 2448908.5), apparent
        // longitude 199.90895° by the low-accuracy method.
        let lon = sun_apparent_longitude(2_448_908.5);
        assert!((lon - 199.908_95).abs() < 0.000_1, "{lon}");
    }

    #[test]
    fn delta_t_is_about_a_minute_in_2000() {
        // ΔT in 2000 was 63.8 s (IERS); the fit gives 63.86 s.
        assert!((delta_t(2000.0) - 63.86).abs() < 0.01);
        assert!(delta_t(1900.0).abs() < 5.0);
    }

    #[test]
    fn winter_solstice_2025() {
        // The December solstice of 2025 was on 21 December at 15:03 UT
        // (published almanac value); JD 2461031.127.
        let jd = sun_reaches(270.0, 2_461_030.0);
        assert!((jd - 2_461_031.127).abs() < 0.01, "{jd}");
    }
}
