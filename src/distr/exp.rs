//! A table-driven eˣ without the library call, for the station path's noise.

/// eˣ for the station path's noise (preference weights, turnout sigmoid): the table-driven
/// method of Arm's optimized-routines / glibc (eˣ = 2^(k/128) · e^r, |r| ≤ ln 2 / 256, a
/// degree-5 Taylor polynomial whose truncation error is below 10⁻¹⁸), inlined and without the
/// library call. Within 1 ulp of `f64::exp` (tested); |x| ≥ 700, infinities and NaN go to
/// `f64::exp`. The ballot path keeps `f64::exp`, so station noise differs between the paths in
/// the last bits.
#[inline]
pub fn exp(x: f64) -> f64 {
    // |x| < 700: 2^(k/128) stays a normal number, and k·ln2/128 is exact in two parts
    if x.abs() >= 700.0 || x.is_nan() {
        return x.exp();
    }
    const INV_LN2_N: f64 = 184.6649652337873; // 128 / ln 2
    const LN2_HI_N: f64 = 0.005415212348111709; // ln 2 / 128, top 36 bits (k·hi exact)
    const LN2_LO_N: f64 = 1.2864023111638346e-14; // the rest of ln 2 / 128
    const SHIFT: f64 = 6755399441055744.0; // 1.5 · 2⁵²: adding it rounds to an integer
    let kd = x * INV_LN2_N + SHIFT;
    let ki = kd.to_bits(); // low bits: k in two's complement
    let kd = kd - SHIFT;
    let r = x - kd * LN2_HI_N - kd * LN2_LO_N;
    let (tail, bits) = EXP_TABLE[(ki % 128) as usize];
    // 2^(k/128) = 2^(k div 128) · 2^((k mod 128)/128): the exponent added to the table's bits
    let scale = f64::from_bits(bits.wrapping_add(ki << 45));
    let r2 = r * r;
    let poly = tail + r + r2 * (0.5 + r * (1.0 / 6.0)) + r2 * r2 * (1.0 / 24.0 + r * (1.0 / 120.0));
    scale + scale * poly
}

/// For i < 128: 2^(i/128) correctly rounded (its bits less i << 45, which [`exp`] adds back with
/// the exponent) and the relative rounding error of that double (2^(i/128) − T)/T, computed in
/// 60-digit decimal arithmetic (Python's `decimal`).
#[rustfmt::skip]
static EXP_TABLE: [(f64, u64); 128] = [
    (                       0.0, 0x3ff0000000000000),
    (     9.447885451727066e-17, 0x3feff63da9fb3335),
    (    -1.507066976926039e-17, 0x3fefec9a3e778061),
    (    -5.679155082825012e-17, 0x3fefe315e86e7f85),
    (    4.9997448722726326e-17, 0x3fefd9b0d3158574),
    (    -4.823683599994895e-17, 0x3fefd06b29ddf6de),
    (     7.357846871247418e-18, 0x3fefc74518759bc8),
    (     5.773230223741951e-17, 0x3fefbe3ecac6f383),
    (     8.189317638195515e-17, 0x3fefb5586cf9890f),
    (     5.326891139980878e-17, 0x3fefac922b7247f7),
    (    1.6665881442326747e-18, 0x3fefa3ec32d3d1a2),
    (    -1.128113245461828e-17, 0x3fef9b66affed31b),
    (    -7.402825309426177e-17, 0x3fef9301d0125b51),
    (    -3.578659767309563e-18, 0x3fef8abdc06c31cc),
    (    -6.170654745608695e-17, 0x3fef829aaea92de0),
    (     2.919139999949279e-17, 0x3fef7a98c8a58e51),
    (   -2.7939114859515733e-17, 0x3fef72b83c7d517b),
    (    -5.399285355184285e-17, 0x3fef6af9388c8dea),
    (     4.776959425256223e-17, 0x3fef635beb6fcb75),
    (    -7.927701432338473e-17, 0x3fef5be084045cd4),
    (     9.341710609905046e-17, 0x3fef54873168b9aa),
    (    -5.534520675707472e-17, 0x3fef4d5022fcd91d),
    (     4.585670326662351e-17, 0x3fef463b88628cd6),
    (    2.8582430411116143e-17, 0x3fef3f49917ddc96),
    (     7.826573258636076e-17, 0x3fef387a6e756238),
    (     4.053626906769216e-17, 0x3fef31ce4fb2a63f),
    (     2.823784425951061e-17, 0x3fef2b4565e27cdd),
    (    -7.882802262487991e-17, 0x3fef24dfe1f56381),
    (    3.2904726646008416e-17, 0x3fef1e9df51fdee1),
    (   -1.5792094703347882e-18, 0x3fef187fd0dad990),
    (     4.721368121170128e-17, 0x3fef1285a6e4030b),
    (    1.3045277096919659e-17, 0x3fef0cafa93e2f56),
    (    3.3484623336251524e-17, 0x3fef06fe0a31b715),
    (    3.8611199774925664e-17, 0x3fef0170fc4cd831),
    (     5.527550048505249e-17, 0x3feefc08b26416ff),
    (    -3.927184172445234e-17, 0x3feef6c55f929ff1),
    (    -6.346552106729483e-17, 0x3feef1a7373aa9cb),
    (    -8.684417614865944e-17, 0x3feeecae6d05d866),
    (   -1.5456342819397733e-17, 0x3feee7db34e59ff7),
    (     -8.70763476495455e-17, 0x3feee32dc313a8e5),
    (     3.750854201303127e-17, 0x3feedea64c123422),
    (    -6.616854503526488e-17, 0x3feeda4504ac801c),
    (    -5.346099009198751e-18, 0x3feed60a21f72e2a),
    (    -2.443726321015018e-17, 0x3feed1f5d950a897),
    (    2.1023049675215714e-18, 0x3feece086061892d),
    (     7.771067937501065e-17, 0x3feeca41ed1d0057),
    (    1.3357510088834541e-17, 0x3feec6a2b5c13cd0),
    (     6.938291696959204e-17, 0x3feec32af0d7d3de),
    (    1.9572585293112036e-17, 0x3feebfdad5362a27),
    (     6.632256961675804e-17, 0x3feebcb299fddd0d),
    (    -5.478069123926778e-17, 0x3feeb9b2769d2ca7),
    (    -4.140839310392624e-17, 0x3feeb6daa2cf6642),
    (   -2.1571477251208752e-17, 0x3feeb42b569d4f82),
    (   -3.8287766552120535e-17, 0x3feeb1a4ca5d920f),
    (     6.663804589232195e-17, 0x3feeaf4736b527da),
    (    2.3936187400285282e-17, 0x3feead12d497c7fd),
    (      5.68648095791174e-17, 0x3feeab07dd485429),
    (    1.1264523354521684e-18, 0x3feea9268a5946b7),
    (     7.007875046906994e-17, 0x3feea76f15ad2148),
    (   -5.0119214278381254e-17, 0x3feea5e1b976dc09),
    (   -4.8923067513522756e-17, 0x3feea47eb03a5585),
    (   -3.5260089953269434e-17, 0x3feea34634ccc320),
    (    -6.872303720902018e-17, 0x3feea23882552225),
    (     5.001446664133532e-18, 0x3feea155d44ca973),
    (    -6.835808657661922e-17, 0x3feea09e667f3bcd),
    (   -1.1307344092910212e-17, 0x3feea012750bdabf),
    (    -8.416011634717156e-18, 0x3fee9fb23c651a2f),
    (   -2.9247977035436566e-17, 0x3fee9f7df9519484),
    (    -2.092304381843353e-17, 0x3fee9f75e8ec5f74),
    (   -3.9778645875427124e-17, 0x3fee9f9a48a58174),
    (    -3.833464968654295e-17, 0x3fee9feb564267c9),
    (     5.763611164480894e-17, 0x3feea0694fde5d3f),
    (   -2.3591094770850053e-17, 0x3feea11473eb0187),
    (     7.260074661098575e-17, 0x3feea1ed0130c132),
    (      9.50689710108796e-18, 0x3feea2f336cf4e62),
    (    -4.272956133839906e-17, 0x3feea427543e1a12),
    (    -6.735219232374683e-17, 0x3feea589994cce13),
    (   -2.8396044410430936e-17, 0x3feea71a4623c7ad),
    (    -7.226635472101257e-17, 0x3feea8d99b4492ed),
    (     5.786121003395918e-17, 0x3feeaac7d98a6699),
    (    5.1548301170786783e-17, 0x3feeace5422aa0db),
    (    -9.416257568878152e-18, 0x3feeaf3216b5448c),
    (    2.4253985766689806e-17, 0x3feeb1ae99157736),
    (    -6.604314051707707e-17, 0x3feeb45b0b91ffc6),
    (    -6.432131775424189e-18, 0x3feeb737b0cdc5e5),
    (   -1.2204007601863921e-17, 0x3feeba44cbc8520f),
    (    -6.336161863401293e-17, 0x3feebd829fde4e50),
    (   -3.7800879246373815e-17, 0x3feec0f170ca07ba),
    (    1.5341410053603723e-17, 0x3feec49182a3f090),
    (    1.2932855580427452e-17, 0x3feec86319e32323),
    (    -4.123367330661149e-17, 0x3feecc667b5de565),
    (     4.703083974463456e-17, 0x3feed09bec4a2d33),
    (    -6.152602891550265e-17, 0x3feed503b23e255d),
    (     5.827849326195279e-17, 0x3feed99e1330b358),
    (     3.540948262646183e-17, 0x3feede6b5579fdbf),
    (   -3.2741571320938764e-17, 0x3feee36bbfd3f37a),
    (     4.875160526227062e-17, 0x3feee89f995ad3ad),
    (    -5.718569790077838e-17, 0x3feeee07298db666),
    (    -4.719539664590972e-18, 0x3feef3a2b84f15fb),
    (    -5.773451958805706e-17, 0x3feef9728de5593a),
    (   -1.0772487078934056e-17, 0x3feeff76f2fb5e47),
    (    -6.221808618533911e-17, 0x3fef05b030a1064a),
    (     1.821405440362259e-17, 0x3fef0c1e904bc1d2),
    (    -6.155536546227639e-17, 0x3fef12c25bd71e09),
    (     1.685487290628973e-17, 0x3fef199bdd85529c),
    (    5.3581249177694816e-17, 0x3fef20ab5fffd07a),
    (     3.621615935336894e-17, 0x3fef27f12e57d14b),
    (     8.588379527574144e-18, 0x3fef2f6d9406e7b5),
    (      1.01562190116415e-17, 0x3fef3720dcef9069),
    (    -2.869134889187244e-17, 0x3fef3f0b555dc3fa),
    (    -5.495118966122005e-17, 0x3fef472d4a07897c),
    (     -5.56965572431627e-17, 0x3fef4f87080d89f2),
    (     1.790126907604513e-17, 0x3fef5818dcfba487),
    (   -3.2211766346200164e-17, 0x3fef60e316c98398),
    (     5.265370768556274e-17, 0x3fef69e603db3285),
    (    3.5089866402403033e-17, 0x3fef7321f301b460),
    (    -3.266924100901318e-17, 0x3fef7c97337b9b5f),
    (   -4.3657593008079375e-17, 0x3fef864614f5a129),
    (    1.7963932659833022e-17, 0x3fef902ee78b3ff6),
    (    3.4300925275214166e-17, 0x3fef9a51fbc74c83),
    (    -5.545065618639427e-17, 0x3fefa4afa2a490da),
    (    -5.149009745457733e-17, 0x3fefaf482d8e67f1),
    (     5.336805878514151e-17, 0x3fefba1bee615a27),
    (     3.498978661192973e-17, 0x3fefc52b376bba97),
    (    4.5784915277060095e-17, 0x3fefd0765b6e4540),
    (    -5.241934575393899e-17, 0x3fefdbfdad9cbe14),
    (    2.0414278897578303e-17, 0x3fefe7c1819e90d8),
    (     4.124842848606488e-18, 0x3feff3c22b8f71f1),
];
