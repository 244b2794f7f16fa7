import Basics
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What one rank of a parallel index scan finds in its byte range of an extxyz file.
///
/// Where frames start cannot be known from an arbitrary byte: a line is a count line only if
/// the frame before it says so. So a piece records no frames, only facts that hold whatever
/// the line is: how many lines start in the range, which of them read as a whole number (with
/// the byte offset and value: every count line is among them, and so is any comment or other
/// line that looks like a count), and the last line holding more than blanks. Gathered in
/// range order, the pieces give every line its whole-file number, and `ExtXYZFrameIndex.assemble`
/// follows the chain from line 1 (a count line, then count + 2 lines on, and so on) through the
/// whole-number lines alone: a cheap pass over about one or two entries a frame. We chose this
/// over chaining rank to rank (each rank guessing its first frame and agreeing with its
/// neighbour afterwards) because it needs no guess, no second round and no special case when a
/// frame spans several ranges; its cost is a few bytes a frame gathered on every rank.
public struct ExtXYZIndexPiece: Sendable, Equatable {
    /// Lines that start in the range.
    public var lineCount: Int64 = 0
    /// Number within the range (1-based) of the last line holding more than blanks; 0: none.
    public var lastTextLine: Int64 = 0
    /// Each whole-number line: its byte offset, its number within the range (1-based) and its value.
    public var offsets: [Int64] = [], lines: [Int64] = [], values: [Int64] = []
    /// More whole-number lines than any file within the frame limit could hold: the rest were
    /// not recorded, and assembling falls back to the serial scan (which names the line).
    public var overflowed = false

    public init() {}

    public init(lineCount: Int64, lastTextLine: Int64, offsets: [Int64], lines: [Int64], values: [Int64], overflowed: Bool) {
        (self.lineCount, self.lastTextLine, self.offsets, self.lines, self.values, self.overflowed)
            = (lineCount, lastTextLine, offsets, lines, values, overflowed)
    }
}

extension ExtXYZFrameIndex {
    /// Bytes of the file: the piece ranges are cut from it.
    public static func fileSize(path: String) throws -> Int64 {
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int else {
            throw InputError(file: path, "cannot read the file (missing or unreadable)")
        }
        return Int64(size)
    }

    /// Byte range `piece` of `pieces` equal ranges of a file of `size` bytes.
    public static func byteRange(piece: Int, of pieces: Int, size: Int64) -> Range<Int64> {
        let cut = { (k: Int) in Int64((Double(size) * Double(k) / Double(pieces)).rounded(.down)) }
        return (piece == 0 ? 0 : cut(piece))..<(piece == pieces - 1 ? size : cut(piece + 1))
    }

    /// Scans the lines that start in `range` (each read to its end, past the range if need be).
    public static func scanPiece(path: String, range: Range<Int64>, maximumFrames: Int = 100_000_000,
                                 blockSize: Int = 1 << 22) throws -> ExtXYZIndexPiece {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError(file: path, "cannot read the file (missing or unreadable)")
        }
        defer { try? handle.close() }
        // A line starts at 0 or after a newline: look from the byte before the range for one.
        let from = max(range.lowerBound - 1, 0)
        try handle.seek(toOffset: UInt64(from))
        var reader = PieceReader(range: range, position: from, atLineStart: from == 0,
                                 maximumEntries: 2 * maximumFrames + 2)
        while !reader.done, let block = try handle.read(upToCount: max(blockSize, 1)), !block.isEmpty {
            block.withUnsafeBytes { reader.consume($0) }
        }
        reader.finish()
        return reader.piece
    }

    /// The index from every piece of the file, in range order: the same as `scan` gives, or
    /// `scan`'s own error. Whatever the chain of whole-number lines cannot settle (a count line
    /// missing where one belongs, text after the last frame, a truncated frame, too many
    /// frames, an empty file) is handed to the serial scan, which names the file and line.
    public static func assemble(path: String, pieces: [ExtXYZIndexPiece], size: Int64,
                                maximumFrames: Int = 100_000_000) throws -> ExtXYZFrameIndex {
        try assemble(path: path, pieces: GatheredPieces(pieces), size: size, maximumFrames: maximumFrames)
    }

    /// `assemble` from the pieces as gathered (one list of whole-number lines for all pieces).
    public static func assemble(path: String, pieces: GatheredPieces, size: Int64,
                                maximumFrames: Int = 100_000_000) throws -> ExtXYZFrameIndex {
        var offsets: [Int64] = [], lines: [UInt32] = []
        var expected: Int64 = 1  // the line the next count line must be on
        var before: Int64 = 0    // lines in the earlier pieces
        var lastText: Int64 = 0
        var settled = true
        var entry = 0
        chain: for piece in pieces.summaries {
            if piece.lastTextLine > 0 { lastText = before + piece.lastTextLine }
            let entries = entry..<(entry + piece.entries)
            entry = entries.upperBound
            for k in entries {
                let line = before + pieces.lines[k]
                if line < expected { continue }
                guard line == expected, offsets.count < maximumFrames, let number = UInt32(exactly: line) else {
                    settled = false
                    break chain
                }
                offsets.append(pieces.offsets[k])
                lines.append(number)
                expected = line + pieces.values[k] + 2
            }
            settled = settled && !piece.overflowed
            before += piece.lineCount
        }
        // Done when the last frame ends the file, or only blank lines follow it.
        let ends = expected == before + 1 || (expected <= before && lastText < expected)
        guard settled, ends, !lines.isEmpty else { return try scan(path: path, maximumFrames: maximumFrames) }
        offsets.append(size)
        return ExtXYZFrameIndex(file: path, offsets: offsets, lines: lines)
    }
}

/// Every piece of a parallel scan as the ranks gather them: each piece's counts, and the
/// whole-number lines of all pieces laid end to end (no copy per piece).
public struct GatheredPieces: Sendable {
    public struct Summary: Sendable {
        public var lineCount: Int64, lastTextLine: Int64, overflowed: Bool, entries: Int
        public init(lineCount: Int64, lastTextLine: Int64, overflowed: Bool, entries: Int) {
            (self.lineCount, self.lastTextLine, self.overflowed, self.entries) = (lineCount, lastTextLine, overflowed, entries)
        }
    }
    public var summaries: [Summary]
    public var offsets: [Int64], lines: [Int64], values: [Int64]

    public init(summaries: [Summary], offsets: [Int64], lines: [Int64], values: [Int64]) {
        (self.summaries, self.offsets, self.lines, self.values) = (summaries, offsets, lines, values)
    }

    init(_ pieces: [ExtXYZIndexPiece]) {
        summaries = pieces.map { Summary(lineCount: $0.lineCount, lastTextLine: $0.lastTextLine, overflowed: $0.overflowed, entries: $0.offsets.count) }
        offsets = pieces.flatMap(\.offsets)
        lines = pieces.flatMap(\.lines)
        values = pieces.flatMap(\.values)
    }
}

/// How much of a line has been seen: blanks only, a whole number (≤ 18 digits, blanks around
/// it allowed), or anything else; the same reading as the serial scan's count lines.
private enum LineShape {
    case blank
    case digits(Int64, count: Int)
    case trailing(Int64)
    case text

    mutating func add(_ byte: UInt8) {
        let isBlank = byte == 0x20 || byte == 0x09 || byte == 0x0D
        let digit = byte >= 0x30 && byte <= 0x39 ? Int64(byte - 0x30) : nil
        switch (self, isBlank, digit) {
        case (.blank, true, _), (.trailing, true, _), (.text, _, _): break
        case (.blank, false, let d?): self = .digits(d, count: 1)
        case (.digits(let v, _), true, _): self = .trailing(v)
        case (.digits(let v, let n), false, let d?): self = n < 18 ? .digits(v * 10 + d, count: n + 1) : .text
        default: self = .text
        }
    }

    var isText: Bool { if case .text = self { true } else { false } }

    var wholeNumber: Int64? {
        switch self {
        case .digits(let v, _), .trailing(let v): v
        default: nil
        }
    }
}

/// A piece read block by block: finds each line start in the range and reads its line's shape.
private struct PieceReader {
    let range: Range<Int64>
    let maximumEntries: Int
    var piece = ExtXYZIndexPiece()
    /// Offset of the next byte to read.
    var position: Int64
    /// Whether `position` starts a line.
    var atLineStart: Bool
    /// The line being read (started in the range), if any.
    var lineStart: Int64?
    var shape = LineShape.blank
    /// No more line starts in the range, and no line open.
    var done = false

    init(range: Range<Int64>, position: Int64, atLineStart: Bool, maximumEntries: Int) {
        self.range = range
        self.position = position
        self.atLineStart = atLineStart
        self.maximumEntries = maximumEntries
        done = range.isEmpty
    }

    mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var index = 0
        while index < bytes.count && !done {
            if atLineStart {
                atLineStart = false
                if position >= range.upperBound { done = true; break }
                if position >= range.lowerBound { lineStart = position; shape = .blank }
            }
            if lineStart != nil, !shape.isText {
                // Read the line's shape byte by byte until it is plain text or ends.
                let byte = bytes[index]
                index += 1
                position += 1
                if byte == 0x0A { closeLine(); atLineStart = true } else { shape.add(byte) }
                continue
            }
            // Text (or a line begun before the range): jump to its end.
            guard let newline = memchr(base + index, 0x0A, bytes.count - index) else {
                position += Int64(bytes.count - index)
                break
            }
            let end = base.distance(to: UnsafeRawPointer(newline))
            position += Int64(end - index + 1)
            index = end + 1
            closeLine()
            atLineStart = true
        }
    }

    /// The file ended: a last line without its newline still counts.
    mutating func finish() { closeLine() }

    private mutating func closeLine() {
        guard let start = lineStart else { return }
        lineStart = nil
        piece.lineCount += 1
        if case .blank = shape {} else { piece.lastTextLine = piece.lineCount }
        guard let value = shape.wholeNumber else { return }
        guard piece.offsets.count < maximumEntries else { piece.overflowed = true; return }
        piece.offsets.append(start)
        piece.lines.append(piece.lineCount)
        piece.values.append(value)
    }
}
