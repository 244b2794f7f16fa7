import ArgumentParser
import Foundation
import Networks
import Testing
@testable import SiteLensCommands

/// `--conv-backend` is the registry (`ConvolutionBackends.registered`) spelled on the command
/// line: every registered name is accepted as that backend, nothing else is, and the help lists
/// the same names in the same order.
struct ConvolutionBackendOptionTests {
    @Test(arguments: ConvolutionBackend.allCases)
    func everyRegisteredNameIsAccepted(backend: ConvolutionBackend) throws {
        let options = try ComputeOptions.parse(["--conv-backend", backend.rawValue])
        #expect(options.convBackend == backend)
    }

    /// Near misses of the registered names, and a name no backend has.
    @Test func otherNamesAreRefused() {
        let names = ConvolutionBackend.allCases.map(\.rawValue)
        let misses = names.flatMap { [$0.uppercased(), $0 + " ", " " + $0, String($0.dropLast())] } + ["", "no-such-backend", names.joined(separator: ",")]
        for name in misses where !names.contains(name) {
            #expect(throws: (any Error).self, "'\(name)'") { _ = try ComputeOptions.parse(["--conv-backend", name]) }
        }
    }

    @Test func theHelpListsExactlyTheRegisteredNames() throws {
        let names = ConvolutionBackend.allCases.map(\.rawValue)
        #expect(!names.isEmpty && Set(names).count == names.count, "names must be distinct: \(names)")
        #expect(ConvolutionBackend.allValueStrings == names)
        // The option's entry, its wrapped lines joined.
        let help = ComputeOptions.helpMessage(columns: 1000).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let start = try #require(help.range(of: "--conv-backend <conv-backend> ")).upperBound
        let entry = try #require(String(help[start...]).components(separatedBy: " --").first)
        #expect(entry.hasSuffix("(values: \(names.joined(separator: ", ")); default: \(ConvolutionBackend.standard.rawValue))"), "\(entry)")
        for backend in ConvolutionBackend.allCases {
            #expect(entry.contains("\(backend.rawValue) (\(backend.summary))"), "\(entry)")
        }
    }
}
