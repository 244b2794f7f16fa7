import CMPI

/// A bfloat16 value: a Float's sign, 8-bit exponent and top 7 mantissa bits, so it covers Float's
/// range at about 3 significant digits in half the bytes of a Float. MPI has no such type nor
/// its sum: it crosses as MPI_UINT16_T and is added by `BFloat16.mpiSum`, an operation of
/// SiteLens's own that widens both values to Float, adds, and rounds back (one rounding per
/// addition, as every reduction step of MPI_Allreduce takes).
public struct BFloat16: Sendable, Equatable, MPISummable {
    public var bits: UInt16

    public init(bits: UInt16) { self.bits = bits }

    /// `value` rounded to the nearest bfloat16, ties to the even one (IEEE's default rounding);
    /// a value beyond bfloat16's largest rounds to infinity as Float's own overflow does, and a
    /// NaN stays a (quiet) NaN: the divergence check then sees what the Float held.
    public init(rounding value: Float) {
        let pattern = value.bitPattern
        if value.isNaN {
            bits = UInt16(truncatingIfNeeded: pattern >> 16) | 0x0040
            return
        }
        // Adding just under half a unit of the kept bits, plus the kept part's lowest bit,
        // carries into the kept bits exactly when the dropped part is above half, or half with
        // an odd kept part. A carry out of the mantissa raises the exponent, and past the
        // largest exponent it makes infinity's pattern.
        let lowestKept = (pattern >> 16) & 1
        bits = UInt16(truncatingIfNeeded: (pattern &+ 0x7FFF &+ lowestKept) >> 16)
    }

    /// The value as a Float (exact: every bfloat16 is a Float).
    public var float: Float { Float(bitPattern: UInt32(bits) << 16) }

    /// The sum as one step of the all-reduce makes it: added in Float, rounded to bfloat16.
    /// A NaN or an infinity stays one (infinities of both signs make a NaN).
    public static func + (a: BFloat16, b: BFloat16) -> BFloat16 { BFloat16(rounding: a.float + b.float) }

    public static var mpiDatatype: MPI_Datatype { cmpi_uint16() }

    /// The sum operation, made (MPI_Op_create) on first use, after MPI_Init, and kept for the
    /// job. Commutative, so Open MPI reduces with the same algorithms (and, for a given rank
    /// count and size, in the same order on every run) as for its own sums.
    public static var mpiSum: MPI_Op { sumOperation }

    nonisolated(unsafe) private static let sumOperation: MPI_Op = {
        var op: MPI_Op? = nil
        // MPI calls a C function with no context: a closure that captures nothing.
        let status = MPI_Op_create({ input, inout_, length, _ in
            guard let input, let inout_, let length else { return }
            let a = input.assumingMemoryBound(to: UInt16.self), b = inout_.assumingMemoryBound(to: UInt16.self)
            for i in 0..<Int(length.pointee) {
                b[i] = (BFloat16(bits: a[i]) + BFloat16(bits: b[i])).bits
            }
        }, 1, &op)
        guard status == cmpi_success(), let op else { fatalError("sitelens: MPI_Op_create for the bfloat16 sum failed (\(status))") }
        return op
    }()
}
