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
                #expect(index.lines[i] == Int64(line))
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
