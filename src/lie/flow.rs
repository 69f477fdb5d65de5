//! Flow commutator: the sign test of the bracket convention (SPEC §5). Flowing along V for time t, then W, then
//! −V, then −W moves x to x + t² `[V, W](x)` + O(t³) with [V, W] = DW·V − DV·W. Each leg is integrated with a
//! classical RK4 on the single field with `FLOW_SUBSTEPS` substeps (error O(t·(t/n)^4), negligible against t³).

/// RK4 substeps per leg of [`flow_commutator`].
pub const FLOW_SUBSTEPS: usize = 256;

/// x ↦ Φ^V_t(x) by RK4 with `steps` substeps (t may be negative).
pub fn rk4_flow<V: Fn(&[f64]) -> Vec<f64>>(v: &V, x: &[f64], t: f64, steps: usize) -> Vec<f64> {
    let h = t / steps as f64;
    let mut y = x.to_vec();
    let axpy = |y: &[f64], a: f64, k: &[f64]| -> Vec<f64> { y.iter().zip(k).map(|(p, q)| p + a * q).collect() };
    for _ in 0..steps {
        let k1 = v(&y);
        let k2 = v(&axpy(&y, h / 2.0, &k1));
        let k3 = v(&axpy(&y, h / 2.0, &k2));
        let k4 = v(&axpy(&y, h, &k3));
        for i in 0..y.len() {
            y[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
    }
    y
}

/// Δx = Φ^{−W}_t Φ^{−V}_t Φ^W_t Φ^V_t (x) − x  (≈ t² `[V, W](x)`).
pub fn flow_commutator<V, W>(v: V, w: W, x: &[f64], t: f64) -> Vec<f64>
where
    V: Fn(&[f64]) -> Vec<f64>,
    W: Fn(&[f64]) -> Vec<f64>,
{
    let y = rk4_flow(&v, x, t, FLOW_SUBSTEPS);
    let y = rk4_flow(&w, &y, t, FLOW_SUBSTEPS);
    let y = rk4_flow(&v, &y, -t, FLOW_SUBSTEPS);
    let y = rk4_flow(&w, &y, -t, FLOW_SUBSTEPS);
    y.iter().zip(x).map(|(a, b)| a - b).collect()
}
