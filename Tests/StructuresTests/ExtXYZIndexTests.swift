import Basics
import Foundation
import Testing
import TestSupport
@testable import Structures

/// The frame index: where each frame starts, found without parsing atoms, must agree with the
/// full parser whatever the line ends and however the file is cut into blocks.
struct ExtXYZIndexTests {
    func write(_ text: String) throws -> String {
        let url = try temporaryFolder("sitelens-index").appendingPathComponent("f.xyz")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test(arguments: [1, 7, 64, 1 << 22])
    func framesParsedFromTheIndexEqualTheWholeFile(blockSize: Int) throws {
        let frames = LennardJonesClusters.generate(count: 9, seed: 3)
        let url = try temporaryFolder("sitelens-index").appendingPathComponent("lj.xyz")
        try ExtXYZ.write(frames, to: url)
        let whole = try ExtXYZ.read(path: url.path)
        for text in [try String(contentsOf: url, encoding: .utf8),
                     try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\n", with: "\r\n"),
                     String(try String(contentsOf: url, encoding: .utf8).dropLast()) + "\n\n  \n"] {
            let path = try write(text)
            let index = try ExtXYZFrameIndex.scan(path: path, blockSize: blockSize)
            #expect(index.frameCount == frames.count)
            var line = 1
            for (i, frame) in frames.enumerated() {
                #expect(index.lines[i] == UInt32(line))
                line += frame.count + 2
                let parsed = try index.frame(i, options: .init())
                #expect(parsed.symbols == whole[i].symbols && parsed.positions == whole[i].positions && parsed.energy == whole[i].energy)
            }
        }
    }

    @Test func theLastLineMayLackItsNewline() throws {
        let index = try ExtXYZFrameIndex.scan(path: try write("1\nenergy=1\nH 0 0 0\n2\nenergy=2\nH 0 0 0\nH 1 0 0"), blockSize: 5)
        #expect(index.lines == [1, 4])
        #expect(try index.frame(1, options: .init()).count == 2)
    }

    @Test func badCountsAndTruncatedFramesNameTheirLine() throws {
        func failure(_ text: String) -> InputError? {
            do { _ = try ExtXYZFrameIndex.scan(path: try write(text), blockSize: 3); return nil }
            catch { return error as? InputError }
        }
        #expect(failure("1\nenergy=1\nH 0 0 0\nx\n")?.line == 4)
        #expect(failure("1\nenergy=1\nH 0 0 0\n3\nenergy=1\nH 0 0 0\n")?.line == 4)
        #expect(failure("1\nenergy=1\nH 0 0 0\n\n2\n")?.line == 5)
        #expect(failure("99999999999999999999\n")?.field == "atom count")
        #expect(failure("") != nil)
    }

    @Test func anErrorInAFrameNamesItsLineInTheWholeFile() throws {
        let path = try write("1\nenergy=1\nH 0 0 0\n2\nenergy=2\nH 0 0 0\nH 1 zero 0\n")
        let index = try ExtXYZFrameIndex.scan(path: path)
        #expect { try index.frame(1, options: .init()) } throws: { ($0 as? InputError)?.line == 7 }
    }
}

/// The parallel index (each of P pieces scanning a byte range, chained afterwards) equals the
/// serial one, or fails with the serial one's error, for any number of pieces and block size.
struct ParallelIndexTests {
    /// Files that stress the chain: comment lines that read as counts (even as the count of the
    /// next frame), frames of 0 atoms, CRLF, padding blanks, trailing blank lines, no final newline.
    static let goodFiles = [
        "2\n5\nH 0 0 0\nH 1 0 0\n3\n1\nH 0 0 0\nH 1 0 0\nH 2 0 0\n1\n  12  \nHe 0 0 0\n",
        "0\n0\n1\n3\nH 0 0 0\n0\n\n",
        "1\r\n2\r\nH 0 0 0\r\n2\r\n1\r\nH 0 0 0\r\nH 1 0 0\r\n\r\n  \r\n",
        "1\nenergy=1\nH 0 0 0\n   \t  2   \n7\nH 0 0 0\nH 1 0 0",
        String(repeating: "3\n2\nAr 0 0 0\nAr 1 0 0\nAr 2 0 0\n", count: 40),
    ]
    static let badFiles = [
        "1\nenergy=1\nH 0 0 0\nx\n",                 // not a count where one belongs
        "1\nenergy=1\nH 0 0 0\n3\nenergy=1\nH 0 0 0\n",  // truncated frame
        "1\nenergy=1\nH 0 0 0\n\n2\n",                // text after the blank line that ended the frames
        "99999999999999999999\n",                     // a count too long to be a number
        "",                                           // no frames
        "2\n1\nH 0 0 0\n",                            // a count-like comment cannot rescue a truncated frame
    ]

    func write(_ text: String) throws -> String {
        let url = try temporaryFolder("sitelens-pindex").appendingPathComponent("f.xyz")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func parallel(_ path: String, pieces: Int, blockSize: Int) throws -> ExtXYZFrameIndex {
        let size = try ExtXYZFrameIndex.fileSize(path: path)
        let scanned = try (0..<pieces).map {
            try ExtXYZFrameIndex.scanPiece(path: path, range: ExtXYZFrameIndex.byteRange(piece: $0, of: pieces, size: size), blockSize: blockSize)
        }
        #expect(scanned.map(\.lineCount).reduce(0, +) == Int64(Self.lineCount(path)), "every line is in exactly one piece")
        return try ExtXYZFrameIndex.assemble(path: path, pieces: scanned, size: size)
    }

    static func lineCount(_ path: String) -> Int {
        let bytes = FileManager.default.contents(atPath: path) ?? Data()
        return bytes.filter { $0 == 0x0A }.count + (bytes.last.map { $0 == 0x0A ? 0 : 1 } ?? 0)
    }

    @Test(arguments: [1, 2, 3, 5, 8, 40])
    func piecesChainIntoTheSerialIndex(pieces: Int) throws {
        let clusters = try temporaryFolder("sitelens-pindex").appendingPathComponent("lj.xyz")
        try ExtXYZ.write(LennardJonesClusters.generate(count: 25, seed: 2), to: clusters)
        let texts = Self.goodFiles + [try String(contentsOf: clusters, encoding: .utf8)]
        for text in texts {
            let path = try write(text)
            let serial = try ExtXYZFrameIndex.scan(path: path)
            for blockSize in [1, 3, 64, 1 << 22] {
                #expect(try parallel(path, pieces: pieces, blockSize: blockSize) == serial, "\(pieces) pieces, blocks of \(blockSize): \(text.prefix(40))")
            }
        }
    }

    @Test(arguments: [1, 2, 3, 7])
    func aBadFileFailsAsTheSerialScanDoes(pieces: Int) throws {
        for text in Self.badFiles {
            let path = try write(text)
            var serialError = ""
            do { _ = try ExtXYZFrameIndex.scan(path: path) } catch { serialError = "\(error)" }
            #expect(!serialError.isEmpty, "the serial scan refuses \(text.debugDescription)")
            #expect { _ = try parallel(path, pieces: pieces, blockSize: 2) } throws: { "\($0)" == serialError }
        }
    }

    /// A piece keeps no more whole-number lines than the frame limit allows, and the index then
    /// still comes out right (or with the serial error) by the serial scan.
    @Test func tooManyCountLikeLinesFallBackToTheSerialScan() throws {
        let path = try write(String(repeating: "1\n7\nH 0 0 0\n", count: 10))
        let piece = try ExtXYZFrameIndex.scanPiece(path: path, range: 0..<ExtXYZFrameIndex.fileSize(path: path), maximumFrames: 3)
        #expect(piece.overflowed && piece.offsets.count == 8)
        #expect { _ = try ExtXYZFrameIndex.assemble(path: path, pieces: [piece], size: ExtXYZFrameIndex.fileSize(path: path), maximumFrames: 3) }
            throws: { "\($0)".contains("more than 3 frames") && ($0 as? InputError)?.line == 10 }
    }
}
