import MPI
import Testing

/// bfloat16 rounding (`--gradient-precision bf16`) on values worked out by hand: a Float's top
/// 16 bits, rounded to nearest with ties to the even pattern; NaN and infinity kept, so the
/// divergence check (which refuses any gradient value that is not finite) still sees them.
struct BFloat16Tests {
    @Test func exactValuesKeepTheirTopBits() {
        #expect(BFloat16(rounding: 1).bits == 0x3F80)
        #expect(BFloat16(rounding: -2).bits == 0xC000)
        #expect(BFloat16(rounding: 0.5).float == 0.5)
        #expect(BFloat16(rounding: -0.0).bits == 0x8000)
    }

    @Test func tiesGoToTheEvenPattern() {
        // 1 + 2⁻⁸ lies halfway between 1 (0x3F80, even) and 1 + 2⁻⁷ (0x3F81, odd): down.
        #expect(BFloat16(rounding: 1 + 0x1p-8).bits == 0x3F80)
        // 1 + 3·2⁻⁸ lies halfway between 0x3F81 (odd) and 0x3F82 (even): up.
        #expect(BFloat16(rounding: 1 + 3 * 0x1p-8).bits == 0x3F82)
        // Just past half rounds up, just short of it down.
        #expect(BFloat16(rounding: (1 + 0x1p-8).nextUp).bits == 0x3F81)
        #expect(BFloat16(rounding: (1 + 0x1p-8).nextDown).bits == 0x3F80)
        // A carry out of the mantissa raises the exponent: just under 2 rounds to 2.
        #expect(BFloat16(rounding: Float(2).nextDown).bits == 0x4000)
    }

    @Test func nanAndInfinityStayNotFinite() {
        #expect(BFloat16(rounding: .infinity).bits == 0x7F80)
        #expect(BFloat16(rounding: -.infinity).bits == 0xFF80)
        #expect(BFloat16(rounding: .nan).float.isNaN)
        // A NaN whose payload lies only in the dropped bits must not round to infinity.
        #expect(BFloat16(rounding: Float(bitPattern: 0x7F80_0001)).float.isNaN)
        // Past bfloat16's largest finite value (0x7F7F) the rounding overflows to infinity.
        #expect(BFloat16(rounding: .greatestFiniteMagnitude).bits == 0x7F80)
        #expect(BFloat16(bits: 0x7F7F).float.isFinite)
    }

    @Test func theAllReduceSumRoundsEachAdditionAndKeepsNaN() {
        let one = BFloat16(rounding: 1), small = BFloat16(rounding: 0x1p-9)
        // 1 + 2⁻⁹ is below half a unit of 1's last bit: the sum stays 1.
        #expect((one + small).bits == one.bits)
        #expect((one + one).float == 2)
        #expect((BFloat16(rounding: .nan) + one).float.isNaN)
        #expect((BFloat16(rounding: .infinity) + BFloat16(rounding: -.infinity)).float.isNaN)
        #expect((BFloat16(bits: 0x7F7F) + BFloat16(bits: 0x7F7F)).float == .infinity)
    }
}
