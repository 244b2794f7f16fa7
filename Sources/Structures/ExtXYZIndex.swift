import Basics
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where each frame of an extxyz file starts: byte offset and line number. Found by one pass
/// that reads only the atom-count lines and jumps over the rest (`scan`), or by ranks scanning
/// byte ranges in parallel (`scanPiece`, `assemble`), so it costs a scan of the bytes, not a
/// parse; frames are parsed later, each by the rank that needs it. Every rank holds the index:
/// 12 bytes a frame (line numbers in 32 bits; a file of more lines is refused, naming the line).
public struct ExtXYZFrameIndex: Sendable, Equatable {
    public let file: String
    /// Byte offset of each frame's count line, and one more: the end of the last frame.
    public let offsets: [Int64]
    /// 1-based line number of each frame's count line.
    public let lines: [UInt32]

    public var frameCount: Int { lines.count }

    public init(file: String, offsets: [Int64], lines: [UInt32]) {
        self.file = file
        self.offsets = offsets
        self.lines = lines
    }

    /// Scans the file in blocks (memory stays small whatever its size). A count line that is
    /// not a whole number, or a frame running past the end, is an error naming the line. At
    /// most `maximumFrames` frames are indexed.
    public static func scan(path: String, maximumFrames: Int = 100_000_000, blockSize: Int = 1 << 22) throws -> ExtXYZFrameIndex {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError(file: path, "cannot read the file (missing or unreadable)")
        }
        defer { try? handle.close() }
        var scanner = FrameScanner(file: path, maximumFrames: maximumFrames)
        while let block = try handle.read(upToCount: max(blockSize, 1)), !block.isEmpty {
            try block.withUnsafeBytes { try scanner.consume($0) }
        }
        return try scanner.finish()
    }

    /// The text of frames `range`, read from the file.
    public func text(ofFrames range: Range<Int>) throws -> String {
        let start = offsets[range.lowerBound], end = offsets[range.upperBound]
        guard let handle = FileHandle(forReadingAtPath: file) else { throw InputError(file: file, "cannot read the file") }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(start))
        let data = try handle.read(upToCount: Int(end - start)) ?? Data()
        guard data.count == Int(end - start) else {
            throw InputError(file: file, line: Int(lines[range.lowerBound]), "the file changed while it was being read")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses frame `index` alone; errors name the line in the whole file.
    public func frame(_ index: Int, options: ExtXYZ.Options) throws -> Structure {
        try frames(index..<(index + 1), options: options)[0]
    }

    /// Parses frames `range` together; errors name the line in the whole file, and each
    /// structure records the line its frame starts on (`info["line"]`).
    public func frames(_ range: Range<Int>, options: ExtXYZ.Options) throws -> [Structure] {
        let firstLine = Int(lines[range.lowerBound])
        let text = try text(ofFrames: range)  // its errors already name the file's line
        var frames: [Structure]
        do { frames = try ExtXYZ.parse(text, file: file, options: options) }
        catch let error as InputError {
            // The parser counted lines from the first frame's start.
            throw InputError(file: error.file, line: error.line.map { $0 + firstLine - 1 }, field: error.field, error.problem)
        }
        guard frames.count == range.count else {
            throw InputError(file: file, line: firstLine, field: "atom count",
                             "frames \(range.lowerBound + 1)–\(range.upperBound) read as \(frames.count) frames")
        }
        for (k, frame) in range.enumerated() { frames[k].info["line"] = "\(lines[frame])" }
        return frames
    }
}

/// Whole number of ASCII digits (surrounding blanks allowed), or nil; nil on overflow.
private func wholeNumber(_ text: [UInt8]) -> Int? {
    let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    let trimmed = text.drop(while: blank).reversed().drop(while: blank).reversed()
    guard !trimmed.isEmpty, trimmed.count <= 18, trimmed.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    return trimmed.reduce(0) { $0 * 10 + Int($1 - 0x30) }
}

/// The frame index built from the file's bytes block by block: at a frame's start it reads the
/// count line (carried across blocks when split), then only counts the newlines of the comment
/// and atom lines.
private struct FrameScanner {
    let file: String
    let maximumFrames: Int
    var offsets: [Int64] = [], lines: [UInt32] = []
    /// Bytes consumed so far, and complete lines seen.
    var position: Int64 = 0
    var lineNumber: Int64 = 0
    /// Lines still to skip in the current frame (0: the next line is a count line).
    var skipping = 0
    /// The count line read so far, when it runs across blocks.
    var partial: [UInt8] = []
    /// A blank line where a count line belongs: only blank lines may follow.
    var ended = false

    init(file: String, maximumFrames: Int) {
        self.file = file
        self.maximumFrames = maximumFrames
    }

    /// Bytes after the last newline seen (a line still open).
    var lineOpen = false

    mutating func consume(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        var index = 0
        while index < bytes.count {
            let newline = memchr(base + index, 0x0A, bytes.count - index).map { base.distance(to: UnsafeRawPointer($0)) }
            let end = newline ?? bytes.count
            if skipping == 0 || ended { partial += bytes[index..<end] }
            position += Int64(end - index)
            guard newline != nil else {
                lineOpen = true
                break
            }
            position += 1
            lineNumber += 1
            lineOpen = false
            index = end + 1
            if skipping > 0 && !ended { skipping -= 1 } else { try countLine(endingAt: position) }
        }
    }

    /// The line in `partial` is complete: a count line (or a blank line at the end).
    private mutating func countLine(endingAt end: Int64) throws {
        let text = partial
        partial = []
        let blank = text.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
        if ended || blank {
            guard blank else {
                throw InputError(file: file, line: Int(lineNumber), field: "atom count", "text after a blank line where a frame's atom count belongs")
            }
            ended = true
            return
        }
        guard let count = wholeNumber(text), count >= 0 else {
            throw InputError(file: file, line: Int(lineNumber), field: "atom count",
                             "expected a whole number of atoms, found '\(String(decoding: text.prefix(40), as: UTF8.self))'")
        }
        guard offsets.count < maximumFrames else {
            throw InputError(file: file, line: Int(lineNumber), "more than \(maximumFrames) frames")
        }
        guard let number = UInt32(exactly: lineNumber) else {
            throw InputError(file: file, line: Int(lineNumber), "more than \(UInt32.max) lines: the frame index keeps line numbers in 32 bits")
        }
        offsets.append(end - Int64(text.count) - 1)
        lines.append(number)
        skipping = count + 1  // the comment line and the atom lines
    }

    mutating func finish() throws -> ExtXYZFrameIndex {
        if lineOpen {  // a last line without a final newline
            lineNumber += 1
            if skipping > 0 && !ended { skipping -= 1 } else { try countLine(endingAt: position + 1) }
        }
        if skipping > 0 && !ended, let last = lines.last {
            throw InputError(file: file, line: Int(last), field: "atom count", "truncated frame: the file ends before its last atom line")
        }
        guard !lines.isEmpty else { throw InputError(file: file, "empty file: no frames") }
        offsets.append(position)
        return ExtXYZFrameIndex(file: file, offsets: offsets, lines: lines)
    }
}

/// An extxyz file read frame by frame on demand: the index says where each frame is; energies
/// and species are gathered once (by whoever builds the store); `structure(i)` parses frame i.
public struct IndexedExtXYZ: StructureStore {
    public let index: ExtXYZFrameIndex
    public let options: ExtXYZ.Options
    /// One per frame; NaN where a frame has none (a stated energy is never NaN: the reader refuses it).
    public let energies: [Double]
    public let species: [String]

    public init(index: ExtXYZFrameIndex, options: ExtXYZ.Options, energies: [Double], species: [String]) {
        precondition(energies.count == index.frameCount, "one energy per frame")
        self.index = index
        self.options = options
        self.energies = energies
        self.species = species
    }

    public var count: Int { index.frameCount }
    public var file: String? { index.file }
    public func energy(_ i: Int) -> Double? { energies[i].isNaN ? nil : energies[i] }
    public func structure(_ i: Int) throws -> Structure { try index.frame(i, options: options) }
}
