#pragma once
/// \file pool_loops.hpp
/// 2-D max and average pooling of a batch-1 tensor in the 8-channel-blocked
/// layout (oneDNN's aBcd8b, what its AVX2 convolutions produce), as loops
/// that the runtime calls instead of oneDNN's pooling primitive.
///
/// Why: oneDNN 2.6's jit:avx2 pooling took 0.4 ms for a 3x3 max pool of
/// 512x14x14 on the AVX2 development machine. Plain scalar loops were faster,
/// but still took 5.5 of GoogLeNet's 43.6 ms on one thread, and did not use
/// a second thread: 5.6 ms on 2 (`dfgpar run --profile`, 13 MaxPools).
/// Here one 8-channel vector is one AVX2 register (two SSE registers on
/// CPUs without AVX2, chosen at run time), and the output rows are shared
/// among the calling worker's OpenMP threads.
///
/// The geometry is what oneDNN's pooling descriptor says: the padding is
/// where the window may read outside the input (ceil_mode included); a max
/// ignores the padding, an average counts it only when `include`.

#include <dfgpar/onednn/omp_shares.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define DFGPAR_POOL_X86 1
#endif

namespace dfgpar::onednn::detail {

/// A pooling window over a [cb][ih][iw][8] input (cb = channels / 8),
/// writing [cb][oh][ow][8].
struct pool_geometry {
  std::int64_t cb, ih, iw, oh, ow, kh, kw, sh, sw, ph, pw;
};

/// The window of output column `ow` / row `oh`, clipped to the input.
struct pool_span {
  std::int64_t begin, end;
};
inline pool_span pool_clip(std::int64_t o, std::int64_t stride, std::int64_t pad, std::int64_t k, std::int64_t in) {
  const std::int64_t b = o * stride - pad;
  return {std::max<std::int64_t>(b, 0), std::min(b + k, in)};
}

/// Output rows [r0, r1) of the flattened (cb, oh) range, one 8-channel
/// vector at a time. `Vec` loads, combines and stores 8 floats, in place
/// (no vector passes by value: a 32-byte vector would pass differently with
/// AVX than without).
template <class Vec, bool Max>
[[gnu::always_inline]] inline void pool_rows(const pool_geometry& g, const float* in, float* out, bool include,
                                             std::int64_t r0, std::int64_t r1) {
  typename Vec::type acc, x;
  for (std::int64_t r = r0; r < r1; ++r) {
    const std::int64_t cb = r / g.oh, oh = r % g.oh;
    const pool_span hs = pool_clip(oh, g.sh, g.ph, g.kh, g.ih);
    const float* plane = in + cb * g.ih * g.iw * 8;
    float* o = out + r * g.ow * 8;
    for (std::int64_t ow = 0; ow < g.ow; ++ow) {
      const pool_span ws = pool_clip(ow, g.sw, g.pw, g.kw, g.iw);
      Vec::set(acc, Max ? -std::numeric_limits<float>::infinity() : 0.f);
      for (std::int64_t h = hs.begin; h < hs.end; ++h) {
        const float* p = plane + (h * g.iw + ws.begin) * 8;
        for (std::int64_t w = ws.begin; w < ws.end; ++w, p += 8) {
          Vec::load(x, p);
          if (Max) Vec::max(acc, x);
          else Vec::add(acc, x);
        }
      }
      if (!Max) {
        const std::int64_t count = include ? g.kh * g.kw : (hs.end - hs.begin) * (ws.end - ws.begin);
        Vec::set(x, 1.f / static_cast<float>(std::max<std::int64_t>(count, 1)));
        Vec::mul(acc, x);
      }
      Vec::store(o + ow * 8, acc);
    }
  }
}

/// 8 floats as a plain array: any CPU (the compiler vectorises what it can).
struct pool_vec_plain {
  struct type {
    float v[8];
  };
  static void set(type& t, float x) {
    for (float& e : t.v) e = x;
  }
  static void load(type& t, const float* p) { std::memcpy(t.v, p, sizeof t.v); }
  static void store(float* p, const type& t) { std::memcpy(p, t.v, sizeof t.v); }
  static void max(type& a, const type& b) {
    for (int i = 0; i < 8; ++i) a.v[i] = a.v[i] < b.v[i] ? b.v[i] : a.v[i];
  }
  static void add(type& a, const type& b) {
    for (int i = 0; i < 8; ++i) a.v[i] += b.v[i];
  }
  static void mul(type& a, const type& b) {
    for (int i = 0; i < 8; ++i) a.v[i] *= b.v[i];
  }
};

#if defined(DFGPAR_POOL_X86)
/// 8 floats as two SSE registers (every x86-64 CPU).
struct pool_vec_sse {
  struct type {
    __m128 lo, hi;
  };
  static void set(type& t, float x) { t.lo = t.hi = _mm_set1_ps(x); }
  static void load(type& t, const float* p) { t.lo = _mm_loadu_ps(p), t.hi = _mm_loadu_ps(p + 4); }
  static void store(float* p, const type& t) { _mm_storeu_ps(p, t.lo), _mm_storeu_ps(p + 4, t.hi); }
  static void max(type& a, const type& b) { a.lo = _mm_max_ps(a.lo, b.lo), a.hi = _mm_max_ps(a.hi, b.hi); }
  static void add(type& a, const type& b) { a.lo = _mm_add_ps(a.lo, b.lo), a.hi = _mm_add_ps(a.hi, b.hi); }
  static void mul(type& a, const type& b) { a.lo = _mm_mul_ps(a.lo, b.lo), a.hi = _mm_mul_ps(a.hi, b.hi); }
};

/// 8 floats as one GCC vector; always inlined into pool_rows_avx2, where
/// they become AVX registers.
struct pool_vec_avx {
  typedef float type __attribute__((vector_size(32)));
  [[gnu::always_inline]] static void set(type& t, float x) { t = type{} + x; }
  [[gnu::always_inline]] static void load(type& t, const float* p) { std::memcpy(&t, p, sizeof t); }
  [[gnu::always_inline]] static void store(float* p, const type& t) { std::memcpy(p, &t, sizeof t); }
  [[gnu::always_inline]] static void max(type& a, const type& b) { a = a > b ? a : b; }
  [[gnu::always_inline]] static void add(type& a, const type& b) { a += b; }
  [[gnu::always_inline]] static void mul(type& a, const type& b) { a *= b; }
};

[[gnu::target("avx2")]] inline void pool_rows_avx2(const pool_geometry& g, const float* in, float* out, bool is_max,
                                                   bool include, std::int64_t r0, std::int64_t r1) {
  if (is_max) pool_rows<pool_vec_avx, true>(g, in, out, include, r0, r1);
  else pool_rows<pool_vec_avx, false>(g, in, out, include, r0, r1);
}

inline bool pool_has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#endif

/// Output rows [r0, r1) with the widest vectors this CPU has.
inline void pool_rows_any(const pool_geometry& g, const float* in, float* out, bool is_max, bool include,
                          std::int64_t r0, std::int64_t r1) {
#if defined(DFGPAR_POOL_X86)
  if (pool_has_avx2()) return pool_rows_avx2(g, in, out, is_max, include, r0, r1);
  if (is_max) pool_rows<pool_vec_sse, true>(g, in, out, include, r0, r1);
  else pool_rows<pool_vec_sse, false>(g, in, out, include, r0, r1);
#else
  if (is_max) pool_rows<pool_vec_plain, true>(g, in, out, include, r0, r1);
  else pool_rows<pool_vec_plain, false>(g, in, out, include, r0, r1);
#endif
}

/// The whole pooling, each of the node's OpenMP threads a contiguous block
/// of output rows (omp_shares.hpp).
inline void pool_blocked8(const pool_geometry& g, const float* in, float* out, bool is_max, bool include) {
  const auto rows = static_cast<std::size_t>(g.cb * g.oh);
  for_each_share(rows, rows, [&](std::size_t r0, std::size_t r1) {
    pool_rows_any(g, in, out, is_max, include, static_cast<std::int64_t>(r0), static_cast<std::int64_t>(r1));
  });
}

}  // namespace dfgpar::onednn::detail
