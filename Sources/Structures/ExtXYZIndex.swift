import Basics
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where each frame of an extxyz file starts: byte offset and line number. Found by one pass
/// that reads only the atom-count lines and jumps over the rest, so it costs a scan of the
/// bytes, not a parse; frames are parsed later, each by the rank that needs it.
public struct ExtXYZFrameIndex: Sendable, Equatable {
    public let file: String
    /// Byte offset of each frame's count line, and one more: the end of the last frame.
    public let offsets: [Int64]
    /// 1-based line number of each frame's count line.
    public let lines: [Int64]

    public var frameCount: Int { lines.count }

    public init(file: String, offsets: [Int64], lines: [Int64]) {
        self.file = file
        self.offsets = offsets
        self.lines = lines
    }

    /// Scans the file. A count line that is not a whole number, or a frame running past the end,
    /// is an error naming the line. At most `maximumFrames` frames are indexed.
    public static func scan(path: String, maximumFrames: Int = 100_000_000) throws -> ExtXYZFrameIndex {
        let bytes: Data
        do { bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) }
        catch { throw InputError(file: path, "cannot read the file (missing or unreadable)") }
        var offsets: [Int64] = [], lines: [Int64] = []
        try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var scanner = LineScanner(raw)
            while let (start, text) = scanner.nextLine() {
                if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                    guard scanner.restIsBlank() else {
                        throw InputError(file: path, line: scanner.lineNumber, field: "atom count", "blank line where a frame's atom count belongs")
                    }
                    break
                }
                guard let count = wholeNumber(text), count >= 0 else {
                    throw InputError(file: path, line: scanner.lineNumber, field: "atom count",
                                     "expected a whole number of atoms, found '\(String(decoding: text.prefix(40), as: UTF8.self))'")
                }
                guard offsets.count < maximumFrames else {
                    throw InputError(file: path, line: scanner.lineNumber, "more than \(maximumFrames) frames")
                }
                let countLine = scanner.lineNumber
                offsets.append(Int64(start))
                lines.append(Int64(countLine))
                // The comment line and `count` atom lines follow.
                guard scanner.skipLines(count + 1) else {
                    throw InputError(file: path, line: countLine, field: "atom count",
                                     "truncated frame: it declares \(count) atoms but the file ends first")
                }
            }
            offsets.append(Int64(scanner.position))
        }
        guard !lines.isEmpty else { throw InputError(file: path, "empty file: no frames") }
        return ExtXYZFrameIndex(file: path, offsets: offsets, lines: lines)
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
        let firstLine = Int(lines[index])
        do {
            let frames = try ExtXYZ.parse(try text(ofFrames: index..<(index + 1)), file: file, options: options)
            guard frames.count == 1 else {
                throw InputError(file: file, line: firstLine, field: "atom count", "frame \(index + 1) did not read as one frame")
            }
            var structure = frames[0]
            structure.info["line"] = "\(firstLine)"
            return structure
        } catch let error as InputError {
            throw InputError(file: error.file, line: error.line.map { $0 + firstLine - 1 }, field: error.field, error.problem)
        }
    }
}

/// Whole number of ASCII digits (surrounding blanks allowed), or nil; nil on overflow.
private func wholeNumber(_ text: UnsafeRawBufferPointer.SubSequence) -> Int? {
    let trimmed = text.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }.reversed()
    guard !trimmed.isEmpty, trimmed.count <= 18, trimmed.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    return trimmed.reduce(0) { $0 * 10 + Int($1 - 0x30) }
}

/// Lines of a byte buffer, ending at "\n" (a "\r" before it stays in the line).
private struct LineScanner {
    let bytes: UnsafeRawBufferPointer
    private(set) var position = 0
    private(set) var lineNumber = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The next line's start offset and bytes (without its "\n").
    mutating func nextLine() -> (Int, UnsafeRawBufferPointer.SubSequence)? {
        guard position < bytes.count else { return nil }
        let start = position
        let end = endOfLine(from: start)
        position = min(end + 1, bytes.count)
        lineNumber += 1
        return (start, bytes[start..<end])
    }

    /// Skips `count` lines; false when the buffer ends first.
    mutating func skipLines(_ count: Int) -> Bool {
        for _ in 0..<count {
            guard position < bytes.count else { return false }
            position = min(endOfLine(from: position) + 1, bytes.count)
            lineNumber += 1
        }
        return true
    }

    func restIsBlank() -> Bool {
        bytes[position...].allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
    }

    private func endOfLine(from start: Int) -> Int {
        guard let base = bytes.baseAddress, start < bytes.count else { return bytes.count }
        guard let found = memchr(base + start, 0x0A, bytes.count - start) else { return bytes.count }
        return base.distance(to: UnsafeRawPointer(found))
    }
}

/// An extxyz file read frame by frame on demand: the index says where each frame is; energies
/// and species are gathered once (by whoever builds the store); `structure(i)` parses frame i.
public struct IndexedExtXYZ: StructureStore {
    public let index: ExtXYZFrameIndex
    public let options: ExtXYZ.Options
    public let energies: [Double?]
    public let species: [String]

    public init(index: ExtXYZFrameIndex, options: ExtXYZ.Options, energies: [Double?], species: [String]) {
        precondition(energies.count == index.frameCount, "one energy per frame")
        self.index = index
        self.options = options
        self.energies = energies
        self.species = species
    }

    public var count: Int { index.frameCount }
    public func energy(_ i: Int) -> Double? { energies[i] }
    public func structure(_ i: Int) throws -> Structure { try index.frame(i, options: options) }
}
